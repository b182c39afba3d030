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
