// Policy: calendar arithmetic in the policy's time zone. Pure.

/**
 * The canonical IANA zones (and UTC, which ECMA-402 requires), listed without
 * loading any zone's rules: about 2 ms. Constructing a DateTimeFormat in a
 * zone loads ICU's time-zone data, 40 ms and more, which the policy check at
 * every cold start would otherwise pay even in functions that never format a
 * time in the zone. Aliases (Asia/Calcutta, US/Eastern) are not listed and
 * take that slower check.
 */
let canonicalZones: Set<string> | undefined;

export function isValidTimeZone(tz: string): boolean {
  canonicalZones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);
  if (canonicalZones.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

interface Parts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
}

// Making a DateTimeFormat costs far more than using one; reports format thousands of times per zone.
const formats = new Map<string, Intl.DateTimeFormat>();

function parts(date: Date, timeZone: string): Parts {
  let fmt = formats.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, fmt);
  }
  const out: Record<string, string> = {};
  for (const p of fmt.formatToParts(date)) out[p.type] = p.value;
  return out as unknown as Parts;
}

/** yyyy-mm-dd of `date` as seen in `timeZone`. */
export function localDate(date: Date, timeZone: string): string {
  const p = parts(date, timeZone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** The date and time, to the minute, that a clock in `timeZone` shows at `date`, read as if it were UTC (ms). */
export function wallClockMs(date: Date, timeZone: string): number {
  const p = parts(date, timeZone);
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute));
}

/** yyyymmddHHMM in UTC: names must not depend on a zone's DST rules. */
export function stamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 12);
}

export function daysBetween(older: Date, newer: Date): number {
  return (newer.getTime() - older.getTime()) / 86_400_000;
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

/**
 * True when the written date and clock fields exist on the calendar. Date.parse
 * rolls 2026-02-30 over to March 2 and 24:00 to the next day: a time on
 * a day that does not exist must be refused, not silently moved.
 */
export function onCalendar(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(s);
  if (!m) return false;
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0] = m.slice(1).map((v) => Number(v ?? 0));
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h <= 23 && mi <= 59 && se <= 59;
}

/** yyyy-mm-dd HH:MM <zone>: a time as the policy's schedules are written. */
export function zonedTime(date: Date, timeZone: string): string {
  const p = parts(date, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${timeZone}`;
}

/**
 * A time as a person reads it: in the policy's zone first, UTC next to it, so
 * that an on-call engineer and an auditor never have to convert in their head.
 * Seconds are shown only when the time has them.
 */
export function bothZones(t: string | Date, timeZone: string): string {
  const d = typeof t === 'string' ? new Date(t) : t;
  if (Number.isNaN(d.getTime())) return String(t);
  const end = d.getUTCSeconds() ? 19 : 16;
  const iso = d.toISOString();
  const local = zonedTime(d, timeZone).split(' ');
  const clock = end === 19 ? `${local[1]}:${iso.slice(17, 19)}` : local[1];
  return `${local[0]} ${clock} ${timeZone} (${iso.slice(0, 10)} ${iso.slice(11, end)} UTC)`;
}

/** The zone's UTC offset at `date`, as +hh:mm. */
export function zoneOffset(date: Date, timeZone: string): string {
  const p = parts(date, timeZone);
  const asUtc = Date.UTC(
    Number(p.year),
    Number(p.month) - 1,
    Number(p.day),
    Number(p.hour),
    Number(p.minute),
  );
  const minutes = Math.round((asUtc - Math.floor(date.getTime() / 60_000) * 60_000) / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
