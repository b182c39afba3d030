// Runtime: the event every scheduled function receives. EventBridge Scheduler
// passes the scheduled time through `<aws.scheduler.scheduled-time>`; handlers
// take "now" from it, never from the wall clock, so a run is reproducible.
import * as z from 'zod/mini';
import { InputError } from './errors.ts';

export const scheduledEventSchema = z.looseObject({
  time: z
    .string()
    .check(
      z.refine(
        (s) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d{2}-\d{2}T/.test(s),
        'expected an ISO-8601 time',
      ),
    ),
  source: z.optional(z.string()),
  'detail-type': z.optional(z.string()),
  detail: z._default(z.record(z.string(), z.unknown()), {}),
});

export type ScheduledEvent = z.infer<typeof scheduledEventSchema>;

export function parseScheduledEvent(raw: unknown): ScheduledEvent {
  const r = scheduledEventSchema.safeParse(raw);
  if (r.success) return r.data;
  throw new InputError(
    r.error.issues.map((i) => `event.${i.path.map(String).join('.') || '(root)'}: ${i.message}`),
  );
}

/** The synthetic event `kura invoke --time` and the local runners build. */
export function syntheticScheduledEvent(time: Date, detail: Record<string, unknown> = {}): ScheduledEvent {
  return {
    source: 'kura.scheduler',
    'detail-type': 'Scheduled Event',
    time: time.toISOString(),
    detail,
  };
}

/**
 * How far a scheduled time may trail the clock in Lambda. Scheduler and the
 * async invoke config both drop events older than 1 h, and three attempts of
 * a 15-minute function add at most 45 min: anything older is a replay (a
 * re-driven dead letter, a hand-sent old event), and a backup taken now but
 * tagged with that old time would hold today's data under yesterday's name,
 * which a restore "at" that time would then pick.
 */
export const MAX_EVENT_LAG_MS = 3 * 3_600_000;
/** Clock skew allowed the other way (an event from the future). */
export const MAX_EVENT_LEAD_MS = 15 * 60_000;

/** Why a scheduled time cannot be run now, or undefined when it can. */
export function eventTimeProblem(time: Date, clock: Date): string | undefined {
  const lag = clock.getTime() - time.getTime();
  const hours = (ms: number) => (Math.abs(ms) / 3_600_000).toFixed(1);
  if (lag > MAX_EVENT_LAG_MS)
    return `event.time: ${time.toISOString()} is ${hours(lag)} h behind the clock (${clock.toISOString()}); expected at most ${hours(MAX_EVENT_LAG_MS)} h: a replayed or re-driven event takes no backup, because its data would be today's under an old time. Back-fill deliberately with \`kura invoke <function> --time <ISO>\``;
  if (-lag > MAX_EVENT_LEAD_MS)
    return `event.time: ${time.toISOString()} is ${hours(lag)} h ahead of the clock (${clock.toISOString()}); expected at most ${MAX_EVENT_LEAD_MS / 60_000} min: a skewed clock or a forged event must not age every backup at once`;
  return undefined;
}
