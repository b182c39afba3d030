// Domain: when an EventBridge Scheduler expression fires, in a time zone.
// Used by local runs (demo, CLI), not by Lambdas.
import { CronExpressionParser } from 'cron-parser';

/** EventBridge cron → the 5-field cron that cron-parser reads (Sunday = 0). */
function toStandardCron(expr: string): string {
  const fields = (/^cron\((.*)\)$/.exec(expr)?.[1] ?? '').trim().split(/\s+/);
  const [min, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const shiftDow = dow === '?' ? '*' : dow.replace(/\b([1-7])\b/g, (d) => String(Number(d) - 1));
  return [min, hour, dom === '?' ? '*' : dom, month, shiftDow].join(' ');
}

/**
 * Fire times already computed per expression and zone: reports ask for the
 * same schedule over overlapping ranges many times (each source, each
 * control), and stepping a cron expression through a time zone costs about a
 * millisecond per firing. Firings depend only on the time, so a range is
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
  const it = CronExpressionParser.parse(toStandardCron(expr), {
    currentDate: new Date(from.getTime() - 1),
    endDate: to,
    tz: timeZone,
  });
  const out: Date[] = [];
  while (it.hasNext()) {
    const next = it.next().toDate();
    if (next.getTime() >= to.getTime()) break;
    out.push(next);
  }
  return out;
}
