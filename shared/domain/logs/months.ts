// Domain (logs): which months a bundling run covers, and the days and months
// of a restore range. Pure; months are `yyyy-mm` strings in the policy's zone.
import { localDate } from '../../policy/calendar.ts';
import { monthOfDay } from './keys.ts';

export function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const idx = y * 12 + (m - 1) + n;
  return `${String(Math.floor(idx / 12)).padStart(4, '0')}-${String((idx % 12) + 1).padStart(2, '0')}`;
}

/**
 * The first month that stays loose at `now`: months strictly before it are
 * bundled. With keepMonths 2, a run on December 1st (or any day in December)
 * gives October: everything before October 1st is bundled. Any earlier month
 * that a missed run left loose is before the cutoff too, so catching up needs
 * no bookkeeping: the next run bundles it.
 */
export function bundleCutoff(now: Date, timeZone: string, keepMonths: number): string {
  return addMonths(monthOfDay(localDate(now, timeZone)), -keepMonths);
}

export function isBundleDue(month: string, cutoff: string): boolean {
  return month < cutoff;
}

/** Every month touched by the day range [from, to], oldest first. */
export function monthsBetween(fromDay: string, toDay: string): string[] {
  const out: string[] = [];
  for (let m = monthOfDay(fromDay); m <= monthOfDay(toDay); m = addMonths(m, 1)) out.push(m);
  return out;
}

/** Every day of [from, to], oldest first. */
export function daysBetween(fromDay: string, toDay: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${fromDay}T00:00:00Z`); t <= Date.parse(`${toDay}T00:00:00Z`); t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** The last day of a month, yyyy-mm-dd. */
export function lastDayOfMonth(month: string): string {
  return new Date(Date.parse(`${addMonths(month, 1)}-01T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

/**
 * The fewest days between a log's day and the creation of the bundle that
 * holds it: a month is bundled on or after the first day of the month
 * keepMonths + 1 after it, so its last day is at least this old. Every
 * keepMonths-long run of months has at least 28 days per month, plus one.
 * Bundles may expire this much earlier than loose files and still keep every
 * line at least the class's retention (lifecycle counts from creation).
 */
export function minimumAgeAtBundling(keepMonths: number): number {
  return keepMonths * 28 + 1;
}
