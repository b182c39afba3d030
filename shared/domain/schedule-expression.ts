// Domain: EventBridge Scheduler expressions (cron/rate/at) — validation and
// occurrence calculation in a time zone. Pure; no AWS imports.
import { CronExpressionParser } from 'cron-parser';

const DOW = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  extra?: RegExp;
}

const FIELDS: FieldSpec[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, extra: /^(\?|L|LW|\d{1,2}W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: DOW, extra: /^(\?|L|\d#[1-5]|[1-7]L|[A-Z]{3}#[1-5])$/ },
  { name: 'year', min: 1970, max: 2199 },
];

function atomValue(atom: string, spec: FieldSpec): number | undefined {
  if (/^\d+$/.test(atom)) return Number(atom);
  const idx = spec.names?.indexOf(atom.toUpperCase()) ?? -1;
  return idx >= 0 ? idx + spec.min : undefined;
}

function checkField(value: string, spec: FieldSpec): string | undefined {
  if (spec.extra?.test(value.toUpperCase())) return undefined;
  for (const part of value.split(',')) {
    const [range, step] = part.split('/');
    if (step !== undefined && !/^\d+$/.test(step)) return `${spec.name} step "${step}" is not a number`;
    if (range === '*' || range === undefined) continue;
    const bounds = range.split('-');
    if (bounds.length > 2) return `${spec.name} "${part}" is not a value or range`;
    for (const b of bounds) {
      const v = atomValue(b, spec);
      if (v === undefined || v < spec.min || v > spec.max) {
        return `${spec.name} "${b}" is outside ${spec.min}-${spec.max}`;
      }
    }
  }
  return undefined;
}

/** Returns a reason the expression is invalid, or undefined when it is valid. */
export function scheduleExpressionProblem(expr: string): string | undefined {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expr);
  if (rate) return Number(rate[1]) > 0 ? undefined : 'rate must be positive';
  if (/^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/.test(expr)) return undefined;
  const cron = /^cron\((.*)\)$/.exec(expr);
  if (!cron?.[1]) return 'expected cron(m h dom mon dow year), rate(n unit) or at(yyyy-mm-ddThh:mm:ss)';
  const fields = cron[1].trim().split(/\s+/);
  if (fields.length !== 6) return `cron needs 6 fields (minutes hours day-of-month month day-of-week year), found ${fields.length}`;
  for (const [i, spec] of FIELDS.entries()) {
    const problem = checkField(fields[i] as string, spec);
    if (problem) return problem;
  }
  const [, , dom, , dow] = fields;
  if ((dom === '?') === (dow === '?')) return 'exactly one of day-of-month and day-of-week must be "?"';
  return undefined;
}

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
