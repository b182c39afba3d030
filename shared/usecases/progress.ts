// Use case support (database and image classes): what a run does with the
// recovery points AWS has not finished or that failed (shared/domain/progress.ts
// decides which is which): a warning in the target's outcome the first time,
// a named error from the next scheduled run on, all of them in one error.
import { type PointState, type ProgressRule, progressVerdict } from '../domain/progress.ts';
import { RecoveryPointFailedError, RecoveryPointStuckError } from '../runtime/errors.ts';
import type { TargetOutcome } from '../runtime/result.ts';

/**
 * Warns in `outcome` about each point stuck or failed that no earlier run
 * has seen so; returns the errors for those an earlier run has. In progress
 * within the limit is normal and says nothing. `where` ends each message
 * (` in <region>`, or '').
 */
export function checkProgress(
  points: PointState[],
  now: Date,
  rule: ProgressRule,
  outcome: TargetOutcome,
  where: string,
): Error[] {
  const failures: Error[] = [];
  for (const p of points) {
    const v = progressVerdict(p, now, rule);
    if (v.kind === 'warning')
      outcome.warnings.push(`${v.message}${where}: the next run fails if it still is`);
    if (v.kind === 'failure') {
      const E = v.reason === 'failed' ? RecoveryPointFailedError : RecoveryPointStuckError;
      failures.push(new E(`${v.message}${where}`));
    }
  }
  return failures;
}

/** The first failure, its message naming the others; undefined when there is none. */
export function combinedFailure(failures: Error[]): Error | undefined {
  const [first, ...rest] = failures;
  if (first && rest.length > 0)
    first.message += ` (and ${rest.length} more: ${rest.map((f) => f.message).join('; ')})`;
  return first;
}
