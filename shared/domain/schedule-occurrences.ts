// Domain: when an EventBridge Scheduler expression fires, in a time zone.
// Reports (coverage, recovery objectives, run progress) use it inside Lambdas
// too, so its cron library is croner: no dependencies, ~28 KB minified, where
// cron-parser brought luxon (~100 KB together, and a slower cold import).
import { Cron } from 'croner';
import { wallClockMs } from '../policy/calendar.ts';

/**
 * EventBridge cron (minutes hours day-of-month month day-of-week year) → croner's
 * 7-part pattern (seconds first). Read in Quartz mode, as EventBridge reads it:
 * day-of-week 1 is Sunday, `?` stands for "any", and the year field is honoured.
 */
function cronFor(expr: string, timeZone: string): Cron {
  const fields = (/^cron\((.*)\)$/.exec(expr)?.[1] ?? '').trim();
  return new Cron(`0 ${fields}`, {
    timezone: timeZone,
    mode: '7-part',
    alternativeWeekdays: true,
    // EventBridge requires `?` in one of the two day fields, so OR and AND agree; say AND.
    domAndDow: true,
    // EventBridge writes a start with a step as `0/15`; croner wants `sloppyRanges` to read it.
    sloppyRanges: true,
    paused: true,
  });
}

/**
 * Fire times already computed per expression and zone: reports ask for the
 * same schedule over overlapping ranges many times (each source, each
 * control), and stepping a cron expression through a time zone costs about a
 * tenth of a millisecond per firing (2,900 daily firings: 0.3 s). Firings depend only on the time, so a range is
 * extended by computing just the part that is missing.
 */
const computed = new Map<string, { from: number; to: number; times: number[] }>();

/** Every fire time of `expr` in [from, to), evaluated in `timeZone`. */
export function occurrences(expr: string, timeZone: string, from: Date, to: Date): Date[] {
  if (!expr.startsWith('cron(') || to <= from) return compute(expr, timeZone, from, to);
  const key = `${expr}\u0000${timeZone}`;
  let c = computed.get(key);
  if (!c) {
    c = {
      from: from.getTime(),
      to: to.getTime(),
      times: compute(expr, timeZone, from, to).map((d) => d.getTime()),
    };
    computed.set(key, c);
  }
  if (from.getTime() < c.from) {
    const before = compute(expr, timeZone, from, new Date(c.from)).map((d) => d.getTime());
    c.times = [...before, ...c.times];
    c.from = from.getTime();
  }
  if (to.getTime() > c.to) {
    const after = compute(expr, timeZone, new Date(c.to), to).map((d) => d.getTime());
    c.times = [...c.times, ...after];
    c.to = to.getTime();
  }
  return c.times.filter((t) => t >= from.getTime() && t < to.getTime()).map((t) => new Date(t));
}

function compute(expr: string, timeZone: string, from: Date, to: Date): Date[] {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expr);
  if (rate) {
    const unitMs = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[rate[2] as 'minute' | 'hour' | 'day'];
    const step = Number(rate[1]) * unitMs;
    const out: Date[] = [];
    for (let t = Math.ceil(from.getTime() / step) * step; t < to.getTime(); t += step) out.push(new Date(t));
    return out;
  }
  const at = /^at\((.*)\)$/.exec(expr);
  if (at) return [];
  const cron = cronFor(expr, timeZone);
  const out: Date[] = [];
  // nextRun(prev) is strictly after prev: start a millisecond early so that `from` itself counts.
  for (let next = cron.nextRun(new Date(from.getTime() - 1)); next && next < to; next = cron.nextRun(next)) {
    // EventBridge Scheduler skips a time that the spring change removes (croner would
    // fire at the end of the gap, which the pattern does not match) and fires a time
    // that the autumn change repeats once, not twice.
    if (cron.match(next) && !repeatsAnEarlierWallTime(next, timeZone)) out.push(next);
  }
  return out;
}

/** True when the clock went back within the last few hours and already showed `t`'s local time. */
function repeatsAnEarlierWallTime(t: Date, timeZone: string): boolean {
  const at = t.getTime();
  const wall = (ms: number) => wallClockMs(new Date(ms), timeZone);
  const offset = (ms: number) => wall(ms) - Math.floor(ms / 60_000) * 60_000;
  const backBy = offset(at - 3 * 3_600_000) - offset(at);
  return backBy > 0 && wall(at - backBy) === wall(at);
}
