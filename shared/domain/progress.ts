// Domain: what a scheduled run makes of a recovery point that AWS has not
// finished (a snapshot `creating`, a copy `copying`, an image `pending`) or
// that failed. Pure. On AWS such work takes minutes to hours, so finding
// today's point in progress is normal: the next run completes what follows it
// (copy, share, prune). A point still in progress past the policy's limit, or
// failed, is a warning for the first run that finds it so, and a failure (a
// named error, so the schedule's alarm fires) from the next scheduled run on.
import { occurrences } from './schedule-occurrences.ts';

export type ProgressVerdict =
  | { kind: 'done' }
  | { kind: 'inProgress' }
  | { kind: 'warning'; reason: 'stuck' | 'failed'; message: string }
  | { kind: 'failure'; reason: 'stuck' | 'failed'; message: string };

export interface ProgressRule {
  /** Hours a point may stay in progress before it counts as stuck. */
  stuckAfterHours: number;
  /** The schedule of the runs that look at it (EventBridge expression) and its time zone. */
  schedule?: string;
  timeZone: string;
}

export interface PointState {
  id: string;
  /** The AWS status (available, creating, copying, pending, failed, …). */
  status: string;
  /** When the point was taken (its kura:time tag). */
  time: Date;
}

const DONE = new Set(['available', 'completed']);
const FAILED = new Set(['failed', 'error', 'invalid', 'incompatible-restore', 'incompatible-parameters']);

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48 ? `${Math.round(h / 24)} days` : `${Math.round(h * 10) / 10} h`;
}

/** Whether a scheduled run other than the current one looked at the point after `since`. */
function seenBefore(rule: ProgressRule, since: Date, now: Date): boolean {
  if (!rule.schedule) return now.getTime() - since.getTime() > rule.stuckAfterHours * 3_600_000;
  return occurrences(rule.schedule, rule.timeZone, new Date(since.getTime() + 1), now).length > 0;
}

export function progressVerdict(p: PointState, now: Date, rule: ProgressRule): ProgressVerdict {
  if (DONE.has(p.status)) return { kind: 'done' };
  const age = now.getTime() - p.time.getTime();
  if (FAILED.has(p.status)) {
    const message = `${p.id} is ${p.status} (taken ${p.time.toISOString()})`;
    return { kind: seenBefore(rule, p.time, now) ? 'failure' : 'warning', reason: 'failed', message };
  }
  const limitMs = rule.stuckAfterHours * 3_600_000;
  if (age <= limitMs) return { kind: 'inProgress' };
  const message = `${p.id} is still ${p.status} after ${hours(age)} (limit ${rule.stuckAfterHours} h, taken ${p.time.toISOString()})`;
  const kind = seenBefore(rule, new Date(p.time.getTime() + limitMs), now) ? 'failure' : 'warning';
  return { kind, reason: 'stuck', message };
}
