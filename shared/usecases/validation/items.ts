// Use case (validation), the Map's states for one item: restore (into the
// isolated account, through the class's RestoreStep), check (the class's
// checks, through their adapters), cleanup (always; the Catch leads here).
import type { Deps } from '../../aws/deps.ts';
import { restoredName } from '../../domain/naming.ts';
import { connectIsolated } from '../../restore/isolated-network.ts';
import { originOf } from '../../restore/source-account.ts';
import type { CreatedResource } from '../../restore/types.ts';
import { NotReadyError } from '../../runtime/errors.ts';
import { errorInfo } from '../../runtime/result.ts';
import { causeMessage, type ItemPointer, loadItem, timerNow, type ValidationItemPorts } from './records.ts';

export interface StepOptions {
  /** In-process wait before NotReadyError (the state machine retries). */
  maxWaitSeconds?: number;
}

export async function restoreItem<P>(
  deps: Deps,
  ports: ValidationItemPorts<P>,
  p: ItemPointer,
  opts: StepOptions = {},
): Promise<{ status: 'restored' | 'failed' }> {
  const { rec, key } = await loadItem(ports.vault, deps.policy, p);
  if (rec.restored) return { status: 'restored' };
  rec.startedAt ??= timerNow(deps).toISOString();
  rec.attempts += 1;
  await ports.vault.put(key, rec);
  try {
    const target = await ports.prepareTarget(deps);
    const step = await ports.step(rec.class);
    const restored = await step.restore(deps, target, rec.recoveryPoint, {
      runId: p.runId,
      purpose: 'validation',
      kmsKeyArn: target.kmsKeyArn,
      maxWaitSeconds: opts.maxWaitSeconds ?? 600,
      // Content: a sample spread over the generation (all of it when the generation is smaller).
      sample: deps.policy.validation?.contentSample ?? 50,
    });
    rec.restored = restored;
    await ports.vault.put(key, rec);
    return { status: 'restored' };
  } catch (err) {
    const partial = (err as { resources?: CreatedResource[] }).resources;
    if (Array.isArray(partial)) rec.leftovers = partial;
    if (!(err instanceof NotReadyError)) rec.restoreError = errorInfo(err);
    await ports.vault.put(key, rec);
    throw err;
  }
}

export async function checkItem<P>(
  deps: Deps,
  ports: ValidationItemPorts<P>,
  p: ItemPointer,
): Promise<{ status: 'checked' | 'failed' }> {
  const { rec, key } = await loadItem(ports.vault, deps.policy, p);
  if (!rec.restored)
    throw new Error(`item ${p.index} (${rec.class} ${rec.source}) was not restored; nothing to check`);
  try {
    const target = await ports.prepareTarget(deps);
    const check = await ports.check(rec.class);
    rec.check = await check(
      { deps, target, now: timerNow(deps), ports: ports.checks, runId: p.runId },
      rec.restored,
    );
  } catch (err) {
    rec.check = { checks: [], error: errorInfo(err) };
  }
  await ports.vault.put(key, rec);
  return {
    status: rec.check.error || rec.check.checks.some((c) => c.status === 'fail') ? 'failed' : 'checked',
  };
}

export async function cleanupItem<P>(
  deps: Deps,
  ports: ValidationItemPorts<P>,
  p: ItemPointer,
  failure?: { Error?: string; Cause?: string },
): Promise<{ status: 'done' | 'failed' | 'not-needed' }> {
  const { rec, key } = await loadItem(ports.vault, deps.policy, p);
  const failed = causeMessage(failure);
  if (failed && !rec.restoreError && !rec.restored) rec.restoreError = failed;
  if (failed && rec.restored && !rec.check) rec.check = { checks: [], error: failed };
  const resources = rec.restored?.resources ?? rec.leftovers ?? [];
  const at = new Date().toISOString();
  try {
    const target = await connectIsolated(deps);
    const step = await ports.step(rec.class);
    if (resources.length > 0) await step.cleanup(target, resources);
    // A restore that died before it could say what it made: sweep this run's tagged databases of this source.
    if (rec.class === 'database') {
      const db = ports.database;
      if (!db)
        throw new Error(
          'database item: these ports have no database sweep (functions/validation-database has)',
        );
      const prefix = restoredName('validation', p.runId, rec.source, originOf(rec.recoveryPoint));
      const strays = (await db.listManaged(target, p.runId)).filter(
        (l) =>
          l.type.startsWith('AWS::RDS::') &&
          l.state !== 'deleting' &&
          l.id.startsWith(prefix) &&
          !resources.some((r) => r.id === l.id),
      );
      const stray = strays.map((l) => ({
        type: l.type,
        id: l.id,
        account: target.accountId,
        region: target.region,
        cleanup: '',
      }));
      if (stray.length > 0) await step.cleanup(target, stray);
      // The share of the source snapshot does not outlive the rehearsal (unless the policy shares permanently).
      await db.unshare(target.accountId, resources);
    }
    rec.cleanup = {
      status: resources.length ? 'done' : 'not-needed',
      resources: resources.map((r) => `${r.type} ${r.id}`),
      at,
    };
  } catch (err) {
    const e = errorInfo(err);
    rec.cleanup = {
      status: 'failed',
      detail: `${e.name}: ${e.message}`,
      resources: resources.map((r) => `${r.type} ${r.id}`),
      at,
    };
  }
  await ports.vault.put(key, rec);
  return { status: rec.cleanup.status };
}
