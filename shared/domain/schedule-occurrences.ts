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

/** Every fire time of `expr` in [from, to), evaluated in `timeZone`. */
export function occurrences(expr: string, timeZone: string, from: Date, to: Date): Date[] {
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
