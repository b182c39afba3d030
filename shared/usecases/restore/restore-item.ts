// Use case (orchestrated restore): the state machine's "item" task, which
// restores one planned item or advances it one stage (a point-in-time copy,
// a wait for AWS), recording each stage so that a re-run resumes.
import type { Deps } from '../../aws/deps.ts';
import type { RdsPitrPort } from '../../aws/rds-pitr.ts';
import { accessFor } from '../../restore/access.ts';
import { advancePitr, cleanupPitr } from '../../restore/database-pitr.ts';
import type { ItemRecord, PlanItem } from '../../restore/plan.ts';
import { stillStands } from '../../restore/recheck.ts';
import type { CreatedResource } from '../../restore/types.ts';
import { InputError, NotReadyError } from '../../runtime/errors.ts';
import { errorInfo } from '../../runtime/result.ts';
import type { RestoreItemPorts } from './ports.ts';
import { loadState } from './state.ts';

export interface ItemOutput {
  key: string;
  done: boolean;
  skipped?: boolean;
  stage?: string;
  waitSeconds?: number;
}

/** State machine task "item": restore one planned item, or advance it one stage. */
export async function restoreItem(
  input: { requestId: string; key: string },
  deps: Deps,
  now: () => Date,
  ports: RestoreItemPorts,
): Promise<ItemOutput> {
  const state = await loadState(input.requestId, ports.store);
  const item: PlanItem | undefined = state.plan.items.find((i) => i.key === input.key);
  if (!item) throw new InputError([`restore ${input.requestId}: no item "${input.key}" in the plan`]);
  const name = `items/${item.key}.json`;
  const existing = await ports.store.get<ItemRecord>(input.requestId, name);
  // A finished item is skipped only while what it made still exists (a resumed restore re-checks).
  if (
    existing?.status === 'done' &&
    (await stillStands(await ports.connect(deps), existing, now(), ports.leftovers))
  )
    return { key: item.key, done: true, skipped: true };
  const t0 = now().toISOString();
  const record: ItemRecord = existing ?? {
    key: item.key,
    class: item.class,
    source: item.source,
    status: 'running',
    attempts: 0,
    startedAt: t0,
    updatedAt: t0,
    recoveryPoint: item.recoveryPoint,
  };
  record.attempts += 1;
  record.status = 'running';
  delete record.error;
  const save = async () => {
    record.updatedAt = now().toISOString();
    await ports.store.put(input.requestId, name, record);
  };
  await save();
  try {
    const step = await ports.step(item.class);
    let rp = item.recoveryPoint;
    const pitr = item.pitr ? pitrPort(ports, item) : undefined;
    if (item.pitr && pitr) {
      const progress = await advancePitr(pitr, item, record, {
        requestId: input.requestId,
        reason: state.plan.reason,
        accountId: await deps.clients.accountId(),
        now: now(),
      });
      record.stage = progress.stage;
      if (!progress.ready) {
        record.status = 'waiting';
        await save();
        return { key: item.key, done: false, stage: progress.stage, waitSeconds: progress.waitSeconds };
      }
      rp = progress.recoveryPoint;
      record.recoveryPoint = rp;
      await save();
    }
    const target = await ports.prepareTarget(deps);
    const restored = await step.restore(deps, target, rp, {
      ...item.options,
      runId: input.requestId,
      purpose: 'restore',
      reason: state.plan.reason,
      ...(target.kmsKeyArn ? { kmsKeyArn: target.kmsKeyArn } : {}),
      // Stay well inside one Lambda invocation; the state machine waits and calls again.
      maxWaitSeconds: 300,
    });
    record.restored = restored;
    await save();
    // How to reach it: the route in, the user and where its (fresh) password is.
    const reach = await accessFor(target, restored, input.requestId, ports.access?.(target));
    record.access = reach.access;
    restored.resources.push(...reach.resources);
    if (pitr) await cleanupPitr(pitr, record);
    const end = now();
    record.status = 'done';
    record.finishedAt = end.toISOString();
    record.durationSeconds = Math.round((end.getTime() - Date.parse(record.startedAt)) / 100) / 10;
    await save();
    return { key: item.key, done: true };
  } catch (err) {
    if (err instanceof NotReadyError || (err as Error).name === 'NotReadyError') {
      const hint = (err as NotReadyError).hint ?? {};
      record.status = 'waiting';
      record.stage = (err as Error).message;
      // Data asked back from an archive class: when it was asked for and when it is ready by.
      if (hint.readyBy && !record.archive)
        record.archive = { requestedAt: now().toISOString(), readyBy: hint.readyBy };
      await save();
      return { key: item.key, done: false, stage: record.stage, waitSeconds: hint.waitSeconds ?? 30 };
    }
    record.status = 'failed';
    record.error = errorInfo(err);
    const leftovers = (err as { resources?: CreatedResource[] }).resources;
    if (Array.isArray(leftovers)) record.leftovers = leftovers;
    await save();
    throw err;
  }
}

/** The point-in-time port, which only the database class's function carries. */
function pitrPort(ports: RestoreItemPorts, item: PlanItem): RdsPitrPort {
  if (!ports.pitr)
    throw new InputError([
      `item ${item.key}: a point-in-time restore of ${item.class} ${item.source}; this function restores no database`,
    ]);
  return ports.pitr;
}
