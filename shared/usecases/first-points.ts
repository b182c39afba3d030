// Use case: after a scheduled backup run, record in the vault the first
// recovery point of every source that has none yet (shared/domain/first-points.ts).
// Called from the four backup handlers with their run's result. A record the
// vault refuses (no vault yet, access denied, throttled) does not fail the
// backup: it is a warning in the result, and the next run writes it. Any
// other error is a fault and fails the run.
import { describeAwsError, isAwsError } from '../runtime/aws-errors.ts';
import type { FirstPointLedger } from '../aws/first-points.ts';
import type { LedgerClass } from '../domain/first-points.ts';
import type { Deps } from '../aws/deps.ts';
import type { RunResult } from '../runtime/result.ts';

const CLASS_OF: Record<string, LedgerClass> = {
  'rds-snapshot': 'database',
  'ami-backup': 'image',
  'content-backup': 'content',
  'log-archive': 'logs',
};

const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** The recovery points a run made or found, as its result names them. */
export function pointsOfRun(
  result: RunResult,
): { class: LedgerClass; source: string; id: string; time: string }[] {
  const cls = CLASS_OF[result.function];
  if (!cls) return [];
  const out: { class: LedgerClass; source: string; id: string; time: string }[] = [];
  for (const t of result.targets) {
    if (t.status === 'failed') continue;
    let id: string | undefined;
    if (cls === 'database') id = text(t.snapshot);
    else if (cls === 'image') id = text(t.imageId) ?? text(t.image);
    else if (cls === 'content') id = t.complete === true ? text(t.generation) : undefined;
    else {
      // A log-archive group: files moved (or finished) into the vault for this class/host.
      const c = t.counts as { moved?: number; finished?: number } | undefined;
      id = (c?.moved ?? 0) + (c?.finished ?? 0) > 0 ? `log-archive ${result.time}` : undefined;
    }
    if (id) out.push({ class: cls, source: t.target, id, time: result.time });
  }
  return out;
}

export async function recordFirstPoints(
  deps: Deps,
  result: RunResult,
  ledger: FirstPointLedger,
  now = new Date(deps.clients.timer.now()),
): Promise<void> {
  const recorded: string[] = [];
  for (const p of pointsOfRun(result)) {
    try {
      if ((await ledger.note(p, result.function, now)) === 'recorded')
        recorded.push(`${p.class} ${p.source}: ${p.id}`);
    } catch (err) {
      if (!isAwsError(err, 'notFound', 'accessDenied', 'throttled')) throw err;
      result.warnings.push(
        `first-point record of ${p.class} ${p.source} not written (${describeAwsError(err)}); reports count its expected points from the oldest point present until it is`,
      );
    }
  }
  if (recorded.length) result.firstPointsRecorded = recorded;
}
