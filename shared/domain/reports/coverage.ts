// Domain (reports): is the backup series complete? For each class and source,
// the schedule's expected firings over a window against the recovery points
// present, so that a missed or failed run is a listed gap, never silent; plus
// the achieved RPO (age of the newest point) per class. Pure.

import { addDays, localDate, zonedTime } from '../../policy/calendar.ts';
import type { Policy, ScheduledTarget } from '../../policy/schema.ts';
import { countFrom } from '../first-points.ts';
import { occurrences } from '../schedule-occurrences.ts';

export type CoverageClass = 'database' | 'content' | 'logs' | 'image';

/** The schedule whose firings each class's points answer. */
export const CADENCE: Record<CoverageClass, ScheduledTarget> = {
  database: 'rds-snapshot',
  content: 'content-backup',
  logs: 'log-archive',
  image: 'ami-backup',
};

export interface Point {
  class: string;
  source: string;
  id: string;
  /** The scheduled time the point answers (kura:time), ISO-8601. */
  time: string;
  region: string;
  status: string;
  validated?: string;
  /** With sources: the source account and region the protected thing lives in. */
  account?: string;
  sourceRegion?: string;
  /** With sources: where this copy lives: the backup account, the source account, or the DR region (of the backup account). */
  location?: 'backup' | 'source' | 'dr';
}

/**
 * present / validated: a recovery point answers the firing; missing: it does
 * not (a gap); expired: older than the policy keeps (pruned by design);
 * before: before the source's first recovery point; pending: fired within the
 * last hour, the run may still be going; none: no firing that day.
 */
export type CellState = 'validated' | 'present' | 'missing' | 'expired' | 'before' | 'pending' | 'none';

export interface Gap {
  from: string;
  to: string;
  /** The same stretch as the schedule reads it, in the policy's time zone. */
  local: string;
  /** Firings without a recovery point in this stretch. */
  missed: number;
}

export interface SourceCoverage {
  class: CoverageClass;
  source: string;
  schedule: string;
  expected: number;
  present: number;
  gaps: Gap[];
  /** One state per day of the window (oldest first), for the chart. */
  cells: { day: string; state: CellState; title: string }[];
  newest?: Point;
  newestValidated?: Point;
  /** Minutes from the newest point to the report's time. */
  rpoMinutes?: number;
  /**
   * Where expected points start: the first point kura recorded for the source
   * in the vault, or (no record yet) the oldest point present, which deleting
   * the oldest points would move: the report says which.
   */
  countedFrom?: { time: string; basis: 'vault record' | 'oldest point present' };
}

const PENDING_MS = 60 * 60_000;

/** yyyy-mm-dd HH:MM <zone>: how the policy's schedules are written. */
export const localTime = zonedTime;

/**
 * How far back the policy keeps points of a class and source: older firings
 * are not expected to have one. Generation-counted classes (content, images)
 * also count on-demand points, so once a source holds its full count of
 * generations, nothing older than its oldest point is expected either.
 */
export function keptSince(
  policy: Policy,
  cls: CoverageClass,
  source: string,
  firings: Date[],
  at: Date,
  points: Point[] = [],
): Date {
  const lastN = (n: number) => firings[Math.max(0, firings.length - n)] ?? at;
  const byGenerations = (n: number) => {
    const times = [...new Set(points.map((p) => p.time))].sort();
    const oldestKept = times.length >= n ? new Date(times[times.length - n] ?? 0) : undefined;
    const floor = lastN(n);
    return oldestKept && oldestKept > floor ? oldestKept : floor;
  };
  if (cls === 'database' && policy.database) {
    const byDays = addDays(at, -policy.database.retainDays);
    const byGen = lastN(policy.database.minGenerations);
    return byDays < byGen ? byDays : byGen;
  }
  if (cls === 'content') {
    const gens = policy.content.find((c) => c.name === source)?.generations;
    return gens ? byGenerations(gens) : new Date(0);
  }
  if (cls === 'image' && policy.images) return byGenerations(policy.images.generations);
  if (cls === 'logs' && policy.logs) {
    const days = policy.logs.classes[source.split('/')[0] ?? '']?.retainDays;
    return days ? addDays(at, -days) : new Date(0);
  }
  return new Date(0);
}

/** The day columns of the window, in the policy's time zone, oldest first. */
export function windowDays(at: Date, days: number, timeZone: string): string[] {
  const out: string[] = [];
  for (let i = days - 1; i >= 0; i--) out.push(localDate(addDays(at, -i), timeZone));
  return [...new Set(out)];
}

/**
 * A source's coverage. A point answers the firing whose interval
 * [firing, next firing) holds its time, so on-demand points and late runs
 * count without being mistaken for the next day's run.
 */
export function sourceCoverage(
  policy: Policy,
  cls: CoverageClass,
  source: string,
  points: Point[],
  opts: { at: Date; days: number; validatedIds?: Set<string>; firstRecorded?: string },
): SourceCoverage | undefined {
  const expr = policy.schedules[CADENCE[cls]];
  if (!expr) return undefined;
  const tz = policy.timezone;
  const from = addDays(opts.at, -opts.days);
  // One firing before the window too, so the first interval has its start.
  const firings = occurrences(expr, tz, addDays(from, -35), opts.at);
  const mine = points
    .filter((p) => p.class === cls && p.source === source && !Number.isNaN(Date.parse(p.time)))
    .sort((a, b) => a.time.localeCompare(b.time));
  const kept = keptSince(policy, cls, source, firings, opts.at, mine);
  const from0 = countFrom(opts.firstRecorded, mine[0]?.time);
  const first = from0 ? new Date(from0) : undefined;
  const isValidated = (p: Point) => Boolean(p.validated) || Boolean(opts.validatedIds?.has(p.id));

  type Slot = { at: Date; state: CellState; points: Point[] };
  const slots: Slot[] = [];
  firings.forEach((f, i) => {
    const end = firings[i + 1] ?? new Date(opts.at.getTime() + 1);
    const answering = mine.filter((p) => {
      const t = Date.parse(p.time);
      return t >= f.getTime() && t < end.getTime();
    });
    let state: CellState;
    if (answering.length) state = answering.some(isValidated) ? 'validated' : 'present';
    else if (opts.at.getTime() - f.getTime() < PENDING_MS) state = 'pending';
    else if (f < kept) state = 'expired';
    // The firing's interval ends before the first point: the source was not backed up yet.
    else if (!first || end <= first) state = first ? 'before' : 'missing';
    else state = 'missing';
    slots.push({ at: f, state, points: answering });
  });
  const inWindow = slots.filter((s) => s.at >= from);

  const gaps: Gap[] = [];
  let open: Gap | undefined;
  for (const s of inWindow) {
    if (s.state === 'missing') {
      if (open) {
        open.to = s.at.toISOString();
        open.local = `${open.local.split(' .. ')[0]} .. ${localTime(s.at, tz)}`;
        open.missed++;
      } else {
        open = { from: s.at.toISOString(), to: s.at.toISOString(), local: localTime(s.at, tz), missed: 1 };
        gaps.push(open);
      }
    } else if (s.state !== 'none') open = undefined;
  }

  const rank: CellState[] = ['missing', 'pending', 'validated', 'present', 'before', 'expired', 'none'];
  // Each firing's and point's local day, once (a window of a year has hundreds of each).
  const slotsByDay = new Map<string, Slot[]>();
  for (const s of inWindow) {
    const d = localDate(s.at, tz);
    slotsByDay.set(d, [...(slotsByDay.get(d) ?? []), s]);
  }
  const pointsByDay = new Map<string, Point[]>();
  for (const p of mine) {
    const d = localDate(new Date(p.time), tz);
    pointsByDay.set(d, [...(pointsByDay.get(d) ?? []), p]);
  }
  const cells = windowDays(opts.at, opts.days, tz).map((day) => {
    const today = slotsByDay.get(day) ?? [];
    // Points made that day outside any firing in the window (e.g. an on-demand image).
    const extra = (pointsByDay.get(day) ?? []).filter((p) => !today.some((s) => s.points.includes(p)));
    let state: CellState = 'none';
    for (const s of today) if (rank.indexOf(s.state) < rank.indexOf(state)) state = s.state;
    if (state === 'none' && extra.length) state = extra.some(isValidated) ? 'validated' : 'present';
    const ids = [...today.flatMap((s) => s.points), ...extra].map((p) => p.id);
    const title = `${cls} ${source} ${day}: ${state}${ids.length ? ` (${ids.join(', ')})` : ''}`;
    return { day, state, title };
  });

  const newest = mine.at(-1);
  const newestValidated = [...mine].reverse().find(isValidated);
  return {
    class: cls,
    source,
    schedule: expr,
    expected: inWindow.filter((s) => ['present', 'validated', 'missing'].includes(s.state)).length,
    present: inWindow.filter((s) => s.state === 'present' || s.state === 'validated').length,
    gaps,
    cells,
    newest,
    newestValidated,
    rpoMinutes: newest ? Math.round((opts.at.getTime() - Date.parse(newest.time)) / 6_000) / 10 : undefined,
    ...(from0
      ? {
          countedFrom: {
            time: new Date(from0).toISOString(),
            basis:
              opts.firstRecorded && Date.parse(opts.firstRecorded) <= Date.parse(from0)
                ? 'vault record'
                : 'oldest point present',
          },
        }
      : {}),
  };
}

/**
 * The scheduled time a day of logs answers: log-archive ships day D at its
 * first firing on D + 1 (local), so a loose file or a bundle member for D is
 * the point of that firing.
 */
export function logDayFiring(policy: Policy, day: string): Date | undefined {
  const expr = policy.schedules['log-archive'];
  if (!expr) return undefined;
  const next = addDays(new Date(`${day}T12:00:00Z`), 1);
  const wanted = localDate(next, policy.timezone);
  return occurrences(expr, policy.timezone, addDays(next, -1), addDays(next, 1)).find(
    (f) => localDate(f, policy.timezone) === wanted,
  );
}
