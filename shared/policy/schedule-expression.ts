// Policy: EventBridge Scheduler expressions (cron/rate/at): validation. Pure,
// and free of any cron library so that Lambdas validating the policy stay small.

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
  if (fields.length !== 6)
    return `cron needs 6 fields (minutes hours day-of-month month day-of-week year), found ${fields.length}`;
  for (const [i, spec] of FIELDS.entries()) {
    const problem = checkField(fields[i] as string, spec);
    if (problem) return problem;
  }
  const [, , dom, , dow] = fields;
  if ((dom === '?') === (dow === '?')) return 'exactly one of day-of-month and day-of-week must be "?"';
  return undefined;
}
