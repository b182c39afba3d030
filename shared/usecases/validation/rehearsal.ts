// Use case (yearly rehearsal), the restore machine's states after its restore
// of every class (statemachines/restore.asl.yml, plan.rehearsal): the
// restore's records become a rehearsal run (plan and item records under
// <reportsPrefix>rehearsal/<runId>/, the run id being the request id), which
// the monthly validation's own check and report states then judge and chain;
// and the cleanup removes everything the restore made, in every account, then
// records per item what it removed. The restore's timings are the rehearsal's
// restore times (RTO per class, the whole system against systemMinutes).
import type { Deps } from '../../aws/deps.ts';
import type { RestoreStorePort } from '../../aws/restore-store.ts';
import type { SealedRecords } from '../../aws/seals.ts';
import type { VaultObjects } from '../../aws/vault-objects.ts';
import { isRehearsalRun } from '../../domain/validation-report.ts';
import type { ItemRecord as RestoreRecord, RestoreReport } from '../../restore/plan.ts';
import { itemOrigin } from '../../restore/source-account.ts';
import { InputError, NotReadyError } from '../../runtime/errors.ts';
import { type CleanupPorts, planCleanup, runCleanup } from '../restore-cleanup.ts';
import { loadState, readRecords } from '../restore/state.ts';
import {
  configuredClasses,
  type ItemPointer,
  type ItemRecord,
  itemKey,
  type PlannedItem,
  planKey,
  type ValidationPlan,
} from './records.ts';

export interface RehearsalPorts {
  /** The rehearsal's records and report, beside the monthly ones. */
  vault: VaultObjects;
  /** Records written and sealed (the plan: the report trusts it only as sealed), as the monthly run's. */
  sealed: Pick<SealedRecords, 'put'>;
  /** The cleanup of one orchestrated restore (`kura restore cleanup`): records, steps, the isolated account. */
  cleanup: CleanupPorts & { store: RestoreStorePort };
}

export interface RehearsalRun {
  runId: string;
  /** The one point in time restored: the rehearsal's run time. */
  time: string;
  /** The items that were restored, for the checks. */
  items: ItemPointer[];
}

async function restoreOf(requestId: string, store: RestoreStorePort) {
  if (!isRehearsalRun(requestId))
    throw new InputError([`request ${requestId}: expected a rehearsal (its id starts with "rehearsal-")`]);
  const state = await loadState(requestId, store);
  if (!state.plan.rehearsal || !state.plan.at)
    throw new InputError([`restore ${requestId} is not a rehearsal (its plan has no rehearsal and no "at")`]);
  return { state, plan: state.plan, records: await readRecords(requestId, store) };
}

/** One restore item's record as the validation's item record: what was restored, when, or why not. */
function asItemRecord(
  index: number,
  item: Pick<PlannedItem, 'class' | 'source' | 'account' | 'sourceRegion' | 'recoveryPoint'>,
  rec: RestoreRecord | undefined,
  latestRestorableTime: string | undefined,
  failure: string | undefined,
): ItemRecord {
  const out: ItemRecord = {
    index,
    class: item.class,
    source: item.source,
    ...(item.account ? { account: item.account } : {}),
    ...(item.sourceRegion ? { sourceRegion: item.sourceRegion } : {}),
    recoveryPoint: rec?.recoveryPoint ?? item.recoveryPoint,
    ...(latestRestorableTime ? { latestRestorableTime } : {}),
    ...(rec ? { startedAt: rec.startedAt } : {}),
    attempts: rec?.attempts ?? 0,
  };
  if (rec?.status === 'done' && rec.restored) {
    // The item's end (its access set up too) is when an operator could have used it.
    out.restored = { ...rec.restored, finishedAt: rec.finishedAt ?? rec.restored.finishedAt };
    return out;
  }
  out.restoreError = rec?.error ?? {
    name: 'NotRestored',
    message: `the restore stopped before this item was restored (${rec?.status ?? 'not started'})${failure ? `: ${failure}` : ''}`,
  };
  if (rec?.leftovers) out.leftovers = rec.leftovers;
  return out;
}

/**
 * State "RehearsalPlan": the restore's plan and records written as the rehearsal run
 * (the plan sealed, as a monthly plan is). Runs after a finished or a failed restore.
 */
export async function planRehearsal(
  deps: Deps,
  ports: RehearsalPorts,
  requestId: string,
): Promise<RehearsalRun> {
  const { plan, records } = await restoreOf(requestId, ports.cleanup.store);
  const report = await ports.cleanup.store.get<RestoreReport>(requestId, 'report.json');
  const failure = report?.failure ? `${report.failure.error}: ${report.failure.cause}` : undefined;
  const latest = plan.rehearsal?.latestRestorable ?? {};
  const items: PlannedItem[] = plan.items.map((it, index) => ({
    index,
    class: it.class,
    source: it.source,
    ...itemOrigin(deps.policy, it),
    recoveryPoint: it.recoveryPoint,
    ...(it.class === 'database' && latest[it.key] ? { latestRestorableTime: latest[it.key] } : {}),
  }));
  const time = plan.at as string;
  const run: ValidationPlan = {
    runId: requestId,
    time,
    createdAt: new Date().toISOString(),
    sourceAccount: await deps.clients.accountId(),
    isolatedAccount: plan.target.accountId,
    region: plan.target.region,
    configured: configuredClasses(deps.policy),
    items,
    nothing: plan.rehearsal?.nothing ?? [],
    reason: plan.reason,
  };
  await ports.sealed.put(planKey(deps.policy, requestId), run);
  const pointers: ItemPointer[] = [];
  for (const it of items) {
    const key = plan.items[it.index]?.key;
    const rec = asItemRecord(
      it.index,
      it,
      records.find((r) => r.key === key),
      it.latestRestorableTime,
      failure,
    );
    await ports.vault.put(itemKey(deps.policy, requestId, it.index), rec);
    if (rec.restored)
      pointers.push({ runId: requestId, index: it.index, class: it.class, source: it.source });
  }
  return { runId: requestId, time, items: pointers };
}

/**
 * State "RehearsalCleanup": everything the restore made removed, as `kura restore
 * cleanup` removes it (recorded and tagged resources, in every account), then each
 * item's record says what of its own was removed. Still there after the wait: the
 * NotReadyError has the state machine come back.
 */
export async function cleanupRehearsal(
  deps: Deps,
  ports: RehearsalPorts,
  requestId: string,
  opts: { maxWaitSeconds?: number } = {},
): Promise<{ removed: number; remaining: number }> {
  const { plan: restorePlan } = await restoreOf(requestId, ports.cleanup.store);
  const plan = await planCleanup(deps, requestId, ports.cleanup);
  const result = await runCleanup(deps, plan, ports.cleanup, { maxWaitSeconds: opts.maxWaitSeconds ?? 600 });
  const byId = new Map(result.entries.map((e) => [e.id, e]));
  for (const [index] of restorePlan.items.entries()) {
    const key = itemKey(deps.policy, requestId, index);
    const rec = await ports.vault.get<ItemRecord>(key);
    if (!rec) continue;
    const mine = rec.restored?.resources ?? rec.leftovers ?? [];
    const left = mine.filter((r) => {
      const e = byId.get(r.id);
      return e?.result === 'still there' || e?.result === 'failed';
    });
    rec.cleanup = {
      status: left.length ? 'failed' : mine.length ? 'done' : 'not-needed',
      ...(left.length
        ? {
            detail: left
              .map((r) => `${r.type} ${r.id}: ${byId.get(r.id)?.detail ?? 'still there'}`)
              .join('; '),
          }
        : {}),
      resources: mine.map((r) => `${r.type} ${r.id}`),
      at: result.at,
    };
    await ports.vault.put(key, rec);
  }
  // A database takes minutes to delete: the state machine retries until it is gone (or gives up and reports it).
  if (result.remaining > 0)
    throw new NotReadyError(`rehearsal ${requestId}: ${result.remaining} resource(s) still being removed`, {
      waitSeconds: 60,
    });
  return { removed: result.removed, remaining: result.remaining };
}
