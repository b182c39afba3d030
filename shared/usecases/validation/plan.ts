// Use case (validation), the plan state: the latest recovery point per class
// and source, after the isolated account, its network, key and bucket are
// ready (nothing is created anywhere when it cannot be reached).
import type { Deps } from '../../aws/deps.ts';
import { CLASSES } from '../../domain/validation-report.ts';
import { itemOrigin, originKey, originOf } from '../../restore/source-account.ts';
import type { RecoveryPointRef } from '../../restore/types.ts';
import {
  configuredClasses,
  type ItemPointer,
  type ItemRecord,
  itemKey,
  type PlannedItem,
  planKey,
  runIdFor,
  type ValidationPlan,
  type ValidationPlanPorts,
} from './records.ts';

/** Plan: the newest recovery point per class and source, each item's record written before the fan-out. */
export async function planValidation(
  deps: Deps,
  ports: ValidationPlanPorts,
  time: Date,
  runIdOverride?: string,
): Promise<{ plan: ValidationPlan; pointers: ItemPointer[] }> {
  const runId = runIdFor(time, runIdOverride);
  // The isolated account first: when it cannot be reached, nothing is created anywhere.
  // Then its network, key and bucket, once, before the restores fan out in parallel.
  const target = await ports.prepareTarget(deps);
  const configured = configuredClasses(deps.policy);
  const items: PlannedItem[] = [];
  const nothing: ValidationPlan['nothing'] = [];
  for (const cls of CLASSES) {
    if (!configured[cls]) continue;
    const listing = await ports.listing(cls);
    const points = await listing.list(deps, { before: time });
    // The newest per (source account, source region, name): with sources, two accounts may
    // back up a database of one name (or one account in two regions); each is its own item.
    const newest = new Map<string, RecoveryPointRef>();
    for (const p of points) {
      const key = originKey(p.source, originOf(p));
      const seen = newest.get(key);
      if (!seen || p.time > seen.time) newest.set(key, p);
    }
    if (newest.size === 0)
      nothing.push({
        class: cls,
        reason: `no kura-managed ${cls} recovery point at or before ${time.toISOString()}`,
      });
    for (const [, rp] of [...newest.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const origin = itemOrigin(deps.policy, { class: cls, source: rp.source, recoveryPoint: rp });
      // The PITR RPO is read from the source now, at the run: what a restore now could reach.
      // With sources, from that account's database in its source region, never a namesake's.
      const latest = cls === 'database' ? await ports.latestRestorableTime(rp, origin) : undefined;
      items.push({
        index: items.length,
        class: cls,
        source: rp.source,
        ...origin,
        recoveryPoint: rp,
        ...(latest ? { latestRestorableTime: latest.toISOString() } : {}),
      });
    }
  }
  const plan: ValidationPlan = {
    runId,
    time: time.toISOString(),
    createdAt: new Date().toISOString(),
    sourceAccount: await deps.clients.accountId(),
    isolatedAccount: target.accountId,
    region: target.region,
    configured,
    items,
    nothing,
  };
  // Sealed: the report trusts what was planned only as sealed.
  await ports.sealed.put(planKey(deps.policy, runId), plan);
  for (const it of items) {
    const rec: ItemRecord = {
      index: it.index,
      class: it.class,
      source: it.source,
      ...(it.account ? { account: it.account } : {}),
      ...(it.sourceRegion ? { sourceRegion: it.sourceRegion } : {}),
      recoveryPoint: it.recoveryPoint,
      ...(it.latestRestorableTime ? { latestRestorableTime: it.latestRestorableTime } : {}),
      attempts: 0,
    };
    await ports.vault.put(itemKey(deps.policy, runId, it.index), rec);
  }
  return { plan, pointers: items.map((i) => ({ runId, index: i.index, class: i.class, source: i.source })) };
}
