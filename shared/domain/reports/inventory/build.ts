// Domain (reports, inventory): the report built from what the use case read:
// every recovery point with its age, each series' coverage and gaps, RPO/RTO
// per class, and what crashed runs left behind.
import type { Policy } from '../../../policy/schema.ts';
import { type PitrStatus, pitrStatus } from '../../pitr.ts';
import type { ValidationReport } from '../../validation-report.ts';
import {
  type CoverageClass,
  type Point,
  type SourceCoverage,
  sourceCoverage,
  windowDays,
} from '../coverage.ts';

export interface OrphanRow {
  class: string;
  kind: string;
  id: string;
  region: string;
  reason: string;
  time?: string;
}

/** With sources: one source account and region's recovery points of one class, by where they live. */
export interface AccountRow {
  account: string;
  region: string;
  class: string;
  sources: number;
  /** Copies owned by the backup account (the recovery points), in its DR region, left in the source. */
  backup: number;
  dr: number;
  source: number;
  /** The newest point's time (any location). */
  newest?: string;
}

/** Points grouped by source account and region, then class; [] in single-account mode (no point names an account). */
export function accountRows(points: Point[]): AccountRow[] {
  const rows = new Map<string, AccountRow & { names: Set<string> }>();
  for (const p of points) {
    if (!p.account || !p.location) continue;
    const region = p.sourceRegion ?? p.region;
    const key = `${p.account} ${region} ${p.class}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        account: p.account,
        region,
        class: p.class,
        sources: 0,
        backup: 0,
        dr: 0,
        source: 0,
        names: new Set(),
      };
      rows.set(key, row);
    }
    row.names.add(p.source);
    row[p.location] += 1;
    if (p.time && (!row.newest || p.time > row.newest)) row.newest = p.time;
  }
  return [...rows.values()]
    .map(({ names, ...r }) => ({ ...r, sources: names.size }))
    .sort(
      (a, b) =>
        a.account.localeCompare(b.account) ||
        a.region.localeCompare(b.region) ||
        a.class.localeCompare(b.class),
    );
}

export interface ClassSummary {
  class: CoverageClass;
  points: number;
  sources: number;
  gaps: number;
  newest?: { source: string; id: string; time: string };
  newestValidated?: { source: string; id: string; time: string };
  /** The worst source's age of its newest point, in minutes. */
  achievedRpoMinutes?: number;
  worstSource?: string;
  /** Databases: the point-in-time window and its lag per source, with DRIFT lines when short. */
  pitr?: PitrStatus[];
  /** From the newest validation report that restored this class. */
  rto?: { runId: string; measuredMinutes: number; targetMinutes: number; within: boolean };
}

export interface InventoryReport {
  kind: 'kura.inventory-report';
  generatedAt: string;
  at: string;
  windowDays: number;
  timezone: string;
  bucket: string;
  days: string[];
  classes: ClassSummary[];
  series: (SourceCoverage & { pitr?: PitrStatus })[];
  points: (Point & { ageHours: number })[];
  /** With sources: the points per source account and region (absent in single-account mode). */
  accounts?: AccountRow[];
  orphans: OrphanRow[];
  notes: string[];
}

export interface InventoryInput {
  policy: Policy;
  at: Date;
  days: number;
  generatedAt: Date;
  points: Point[];
  /** The points the series are measured on (default: points); logs count per day, not per bundle. */
  seriesPoints?: Point[];
  /** Sources the policy or the estate says exist, even with no point at all. */
  expectedSources: { class: CoverageClass; source: string }[];
  /** Point-in-time restore state of each selected database, as RDS reports it. */
  pitr: {
    source: string;
    latestRestorableTime?: string;
    earliestRestorableTime?: string;
    backupRetentionDays?: number;
  }[];
  /** The first recovery point kura recorded per source in the vault, keyed `<class> <source>`. */
  firstRecorded?: Map<string, { time: string }>;
  /** Validation reports, oldest first. */
  validations: ValidationReport[];
  orphans: OrphanRow[];
  notes?: string[];
}

const CLASSES: CoverageClass[] = ['database', 'content', 'logs', 'image'];

export function inventoryReport(i: InventoryInput): InventoryReport {
  const db = i.policy.database;
  const pitr = db
    ? i.pitr.map((d) =>
        pitrStatus(
          {
            source: d.source,
            backupRetentionDays: d.backupRetentionDays ?? db.retainDays,
            latestRestorableTime: d.latestRestorableTime ? new Date(d.latestRestorableTime) : undefined,
            earliestRestorableTime: d.earliestRestorableTime ? new Date(d.earliestRestorableTime) : undefined,
          },
          db,
          i.at,
        ),
      )
    : [];
  const validatedIds = new Set(
    i.validations.flatMap((r) =>
      r.items.filter((x) => x.status === 'pass' && x.recoveryPoint).map((x) => x.recoveryPoint?.id ?? ''),
    ),
  );
  const mark = <P extends Point>(p: P): P => ({
    ...p,
    validated: p.validated ?? (validatedIds.has(p.id) ? 'validation report' : undefined),
  });
  const points = i.points.map((p) => ({
    ...mark(p),
    ageHours: p.time ? Math.round((i.at.getTime() - Date.parse(p.time)) / 360_000) / 10 : Number.NaN,
  }));
  const seriesPoints = (i.seriesPoints ?? i.points).map(mark);
  const keys = new Map<string, { class: CoverageClass; source: string }>();
  // A source the vault recorded stays in the report even when every one of its points is gone.
  const recorded = [...(i.firstRecorded?.keys() ?? [])].map((k) => {
    const at = k.indexOf(' ');
    return { class: k.slice(0, at) as CoverageClass, source: k.slice(at + 1) };
  });
  for (const s of [
    ...i.expectedSources,
    ...recorded,
    ...seriesPoints.map((p) => ({ class: p.class as CoverageClass, source: p.source })),
  ])
    if (CLASSES.includes(s.class)) keys.set(`${s.class}\u0000${s.source}`, s);
  const series = [...keys.values()]
    .sort((a, b) => CLASSES.indexOf(a.class) - CLASSES.indexOf(b.class) || a.source.localeCompare(b.source))
    .map((k) =>
      sourceCoverage(i.policy, k.class, k.source, seriesPoints, {
        at: i.at,
        days: i.days,
        validatedIds,
        firstRecorded: i.firstRecorded?.get(`${k.class} ${k.source}`)?.time,
      }),
    )
    .filter((s): s is SourceCoverage => s !== undefined)
    .map((s) => {
      const p = pitr.find((x) => s.class === 'database' && x.source === s.source);
      return p ? { ...s, pitr: p } : s;
    });

  const classes = CLASSES.map((cls): ClassSummary => {
    const mine = points.filter((p) => p.class === cls).sort((a, b) => a.time.localeCompare(b.time));
    const ser = series.filter((s) => s.class === cls);
    const worst = [...ser].sort((a, b) => (b.rpoMinutes ?? Infinity) - (a.rpoMinutes ?? Infinity))[0];
    const brief = (p?: Point) => (p ? { source: p.source, id: p.id, time: p.time } : undefined);
    const summary: ClassSummary = {
      class: cls,
      points: mine.length,
      sources: ser.length,
      gaps: ser.reduce((a, s) => a + s.gaps.length, 0),
      newest: brief(mine.at(-1)),
      newestValidated: brief([...mine].reverse().find((p) => p.validated)),
      achievedRpoMinutes: worst?.rpoMinutes,
      worstSource: worst?.source,
    };
    if (cls === 'database' && i.policy.database) summary.pitr = pitr;
    const vclass = cls === 'image' ? 'image' : cls;
    for (const r of [...i.validations].reverse()) {
      const restored = r.items.filter((x) => x.class === vclass && x.restore);
      if (!restored.length) continue;
      const slowest = restored.reduce((a, b) =>
        (b.restore?.durationSeconds ?? 0) > (a.restore?.durationSeconds ?? 0) ? b : a,
      );
      const rs = slowest.restore;
      if (rs)
        summary.rto = {
          runId: r.runId,
          measuredMinutes: Math.round(rs.durationSeconds / 0.6) / 100,
          targetMinutes: rs.rtoMinutes,
          within: restored.every((x) => x.restore?.withinRto),
        };
      break;
    }
    return summary;
  });

  return {
    kind: 'kura.inventory-report',
    generatedAt: i.generatedAt.toISOString(),
    at: i.at.toISOString(),
    windowDays: i.days,
    timezone: i.policy.timezone,
    bucket: i.policy.vault.bucket,
    days: windowDays(i.at, i.days, i.policy.timezone),
    classes,
    series,
    points,
    ...(accountRows(i.points).length ? { accounts: accountRows(i.points) } : {}),
    orphans: i.orphans,
    notes: i.notes ?? [],
  };
}
