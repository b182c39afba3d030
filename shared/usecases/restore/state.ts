// Use case (orchestrated restore): what one restore records in the vault
// under restores/<request-id>/ (state, approval, one record per item), and
// how it is read back. A re-run of the same request resumes from here.
import type { RestoreStorePort } from '../../aws/restore-store.ts';
import type { ItemRecord, RestorePlan } from '../../restore/plan.ts';
import { SealError } from '../../domain/seals.ts';
import { InputError } from '../../runtime/errors.ts';

export interface RestoreState {
  requestId: string;
  request: unknown;
  plan: RestorePlan;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CLEANED';
  updatedAt: string;
  runs: { startedAt: string; execution?: string }[];
  report?: { json: string; markdown: string };
  /** Set by `kura restore cleanup`: when, and what it removed (cleanup.json holds the detail). */
  cleanup?: { at: string; removed: number; remaining: number };
}

export interface ApprovalRecord {
  status: 'pending' | 'approved' | 'rejected';
  requestedAt: string;
  token?: string;
  decidedAt?: string;
  by?: string;
  note?: string;
}

export async function readRecords(requestId: string, store: RestoreStorePort): Promise<ItemRecord[]> {
  const names = await store.items(requestId);
  const out = await Promise.all(names.map((n) => store.get<ItemRecord>(requestId, `items/${n}`)));
  return out.filter((r): r is ItemRecord => Boolean(r));
}

export async function loadState(requestId: string, store: RestoreStorePort): Promise<RestoreState> {
  const state = await store.get<RestoreState>(requestId, 'state.json');
  if (!state)
    throw new InputError([
      `restore ${requestId}: no recorded plan (restores/${requestId}/state.json); start it first`,
    ]);
  state.plan = await sealedPlan(requestId, store);
  return state;
}

/** The recorded plan, as sealed (the store checks plan.json against its seal); a state without one was not planned by kura. */
export async function sealedPlan(requestId: string, store: RestoreStorePort): Promise<RestorePlan> {
  const plan = await store.get<RestorePlan>(requestId, 'plan.json');
  if (!plan)
    throw new SealError(
      `restores/${requestId}/plan.json`,
      'unsealed',
      'the restore has progress (state.json) but no sealed plan: not trusted',
    );
  return plan;
}
