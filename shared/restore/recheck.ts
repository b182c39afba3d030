// Restore: a resumed restore re-checks what its finished items made. An item
// recorded `done` whose resources are gone from the isolated account (deleted
// by hand, or by an account clean-up) is restored again and says so, instead
// of reporting SUCCEEDED with an endpoint that no longer exists.
import type { LeftoversPort } from '../aws/isolated-leftovers.ts';
import type { ItemRecord } from './plan.ts';
import type { IsolatedTarget } from './types.ts';

/** The ids of the item's restored resources that no longer exist (unknown types are taken as existing). */
export async function goneResources(
  target: IsolatedTarget,
  record: ItemRecord,
  leftovers: Pick<LeftoversPort, 'stillExists'>,
): Promise<string[]> {
  const gone: string[] = [];
  for (const r of record.restored?.resources ?? []) {
    if (r.account !== target.accountId) continue;
    if ((await leftovers.stillExists(target, r)) === false) gone.push(`${r.type} ${r.id}`);
  }
  return gone;
}

/**
 * True when a finished item still stands. Otherwise the record is reset so
 * that the item is restored afresh, and keeps a line saying why.
 */
export async function stillStands(
  target: IsolatedTarget,
  record: ItemRecord,
  now: Date,
  leftovers: Pick<LeftoversPort, 'stillExists'>,
): Promise<boolean> {
  const gone = await goneResources(target, record, leftovers);
  if (gone.length === 0) return true;
  record.rechecked = [
    ...(record.rechecked ?? []),
    {
      at: now.toISOString(),
      gone,
      note: `gone when the restore was resumed: ${gone.join(', ')}; restored again`,
    },
  ];
  record.status = 'running';
  delete record.restored;
  delete record.access;
  delete record.finishedAt;
  delete record.durationSeconds;
  record.startedAt = now.toISOString();
  return false;
}
