// Restore (domain): the times an on-call engineer typed, checked against the
// policy's zone and against the recovery points that exist. A time written
// with another offset than the zone's (03:09Z meant as 03:09 in Tokyo) and a
// requested time hours away from any recovery point are called out before
// anything is restored. Pure.
import { bothZones, zoneOffset } from '../policy/calendar.ts';

/** A requested time more than this far from every recovery point is called out. */
export const FAR_FROM_POINT_HOURS = 3;

const OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

function normalOffset(o: string): string {
  if (o === 'Z') return '+00:00';
  return o.includes(':') ? o : `${o.slice(0, 3)}:${o.slice(3)}`;
}

/**
 * A warning when `raw` (as typed) carries an offset that is not the policy
 * zone's at that instant: the time is read as written, and shown in the zone
 * so that a wrong offset is seen.
 */
export function offsetWarning(what: string, raw: string | undefined, timeZone: string): string | undefined {
  if (!raw) return undefined;
  const m = OFFSET.exec(raw);
  const t = new Date(raw);
  if (!m || Number.isNaN(t.getTime())) return undefined;
  const written = normalOffset(m[1] as string);
  const zone = zoneOffset(t, timeZone);
  if (written === zone) return undefined;
  const clock = raw.slice(11, 16);
  return `${what}: ${raw} is written with offset ${written}, not ${timeZone}'s ${zone}: it means ${bothZones(t, timeZone)}. If you meant ${clock} in ${timeZone}, write ${raw.slice(0, 19)}${zone}.`;
}

const hours = (ms: number) => Math.round((ms / 3_600_000) * 10) / 10;

/**
 * A warning when the point chosen for a requested time is more than a few
 * hours from it, naming the points on either side so that the person can
 * choose (or see that the time they typed is not the one they meant).
 */
export function farFromPointWarning(
  label: string,
  requested: string,
  chosen: { id: string; time: string },
  after: { id: string; time: string } | undefined,
  timeZone: string,
): string | undefined {
  const gap = Date.parse(requested) - Date.parse(chosen.time);
  if (Math.abs(gap) <= FAR_FROM_POINT_HOURS * 3_600_000) return undefined;
  const next = after
    ? `; the next one is ${after.id}, taken ${bothZones(after.time, timeZone)} (${hours(Date.parse(after.time) - Date.parse(requested))} h after)`
    : '; there is none after it';
  return `${label}: the recovery point for ${bothZones(requested, timeZone)} is ${chosen.id}, taken ${bothZones(chosen.time, timeZone)}, ${hours(gap)} h earlier${next}. Check the time (and its offset) you asked for.`;
}

/** The recovery points nearest to a time, one at or before and one after. */
export function nearestPoints<P extends { time: string }>(
  points: P[],
  time: string,
): { before?: P; after?: P } {
  const t = Date.parse(time);
  const sorted = [...points].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  return {
    before: [...sorted].reverse().find((p) => Date.parse(p.time) <= t),
    after: sorted.find((p) => Date.parse(p.time) > t),
  };
}
