// Use case: the inventory report. Gathers the recovery points (inventory.ts),
// the day-by-day presence of logs, the databases the selector picks (so a
// source with no point at all still shows as a gap), their PITR state, the
// validation reports and the orphans, and hands them to the pure report.

import type { Deps } from '../aws/deps.ts';
import { describeAwsError, isAwsError, isMissingBucket } from '../runtime/aws-errors.ts';
import type { FirstPoint } from '../domain/first-points.ts';
import type { EstatePorts, InventoryReportPorts } from '../aws/report-ports.ts';
import { LOOSE_ROOT, parseBundleKey, parseLooseKey } from '../domain/logs/keys.ts';
import { logDayFiring, type Point } from '../domain/reports/coverage.ts';
import { type InventoryReport, inventoryReport } from '../domain/reports/inventory.ts';
import type { ValidationReport } from '../domain/validation-report.ts';
import { inventory } from './inventory.ts';
import { findOrphans } from './orphans.ts';
import { selected } from './rds-snapshot.ts';

/** Every day of a month, yyyy-mm-dd. */
function daysOf(month: string): string[] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const n = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return Array.from({ length: n }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
}

/**
 * Logs answer log-archive one day at a time: a loose file of day D, or a
 * committed bundle of D's month, is D's point. Inventory lists logs per
 * bundle and per host, so the days are read here.
 */
export async function logDayPoints(
  deps: Deps,
  estate: Pick<EstatePorts, 'objects'>,
  bundles: Point[],
  from: Date,
): Promise<Point[]> {
  if (!deps.policy.logs) return [];
  const days = new Map<string, Point>();
  const add = (source: string, day: string, id: string, status: string) => {
    const f = logDayFiring(deps.policy, day);
    if (!f || f < from || days.has(`${source} ${day}`)) return;
    days.set(`${source} ${day}`, {
      class: 'logs',
      source,
      id,
      time: f.toISOString(),
      region: deps.clients.region,
      status,
    });
  };
  const loose = await estate.objects
    .list(deps.policy.vault.bucket, LOOSE_ROOT)
    .catch((e: unknown) => (isAwsError(e, 'notFound') ? [] : Promise.reject(e)));
  for (const o of loose) {
    const ref = parseLooseKey(o.key);
    if (ref)
      add(
        `${ref.logClass}/${ref.host}`,
        ref.day,
        `${LOOSE_ROOT}${ref.logClass}/${ref.host}/${ref.day}/`,
        'loose',
      );
  }
  for (const b of bundles) {
    const ref = parseBundleKey(b.id);
    if (ref && b.status.startsWith('bundle of'))
      for (const day of daysOf(ref.month)) add(b.source, day, b.id, 'bundled');
  }
  return [...days.values()];
}

/**
 * A read of the vault for a report: no vault yet gives `empty`; a read that
 * is refused or throttled gives `empty` and a note that names it (`what`,
 * then `consequence`); any other error is a fault.
 */
export async function readForReport<T>(
  notes: string[],
  what: string,
  consequence: string,
  read: () => Promise<T>,
  empty: T,
): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (isMissingBucket(err)) return empty;
    if (!isAwsError(err, 'accessDenied', 'throttled')) throw err;
    notes.push(`${what} could not be read (${describeAwsError(err)})${consequence}`);
    return empty;
  }
}

/** The vault's first-point records; none yet (or no vault) is an empty map, a refused read a note. */
export function readFirstPoints(
  ports: Pick<InventoryReportPorts, 'firstPoints'>,
  notes: string[],
): Promise<Map<string, FirstPoint>> {
  return readForReport(
    notes,
    'first-point records',
    '; gaps are counted from the oldest point present',
    () => ports.firstPoints.readAll(),
    new Map<string, FirstPoint>(),
  );
}

/** The validation reports in the vault; none (or no vault) is an empty list, a refused read a note. */
export function readReports(
  ports: Pick<InventoryReportPorts, 'validationReports'>,
  notes: string[],
): Promise<{ key: string; body: string }[]> {
  return readForReport(notes, 'validation reports', '', () => ports.validationReports(), []);
}

/** When kura first recorded a backup of anything: months before it are not missed validations. */
export function earliestBackup(firstPoints: Map<string, FirstPoint>): Date | undefined {
  const times = [...firstPoints.values()].map((f) => Date.parse(f.time)).sort((a, b) => a - b);
  return times[0] === undefined ? undefined : new Date(times[0]);
}

export interface InventoryReportOptions {
  at: Date;
  days: number;
  /** What the caller has read already (the compliance report reads them too). */
  read?: { firstPoints: Map<string, FirstPoint>; reports: { key: string; body: string }[] };
}

export async function buildInventoryReport(
  deps: Deps,
  ports: InventoryReportPorts,
  opts: InventoryReportOptions,
): Promise<InventoryReport> {
  const { policy } = deps;
  const notes: string[] = [];
  const firstPoints = await (opts.read?.firstPoints ?? readFirstPoints(ports, notes));
  const recordedDatabases = [...firstPoints.values()]
    .filter((f) => f.class === 'database')
    .map((f) => f.source);
  const [items, databases, reports, orphans] = await Promise.all([
    inventory(deps, ports, { databases: recordedDatabases, notes }),
    policy.database ? ports.databases.listDatabases() : Promise.resolve([]),
    opts.read?.reports ?? readReports(ports, notes),
    findOrphans(deps, ports),
  ]);
  const validations: ValidationReport[] = [];
  for (const r of reports) {
    try {
      validations.push(JSON.parse(r.body) as ValidationReport);
    } catch {
      notes.push(`${r.key} is not readable JSON (see kura report validation --verify)`);
    }
  }
  const from = new Date(opts.at.getTime() - (opts.days + 35) * 86_400_000);
  const logItems = items.filter((p) => p.class === 'logs');
  const series = [
    // A copy left in a source account is a convenience, not a recovery point of the backup account.
    ...items.filter((p) => p.class !== 'logs' && p.location !== 'source'),
    ...(await logDayPoints(deps, ports, logItems, from)),
  ];
  const mine = databases.filter((d) => selected(d, policy));
  const windows = await Promise.all(mine.map((d) => ports.pitrWindow(d.id)));
  const unrecorded = [...new Set(series.map((p) => `${p.class} ${p.source}`))].filter(
    (k) => !firstPoints.has(k),
  );
  if (unrecorded.length)
    notes.push(
      `no first-point record in the vault for ${unrecorded.join(', ')}: their expected points are counted from the oldest point present until a backup run records one (ledger/first-points/)`,
    );
  notes.push(
    'a point answers the scheduled run whose interval [run, next run) holds its kura:time; logs answer per day (a loose file or a committed bundle of that month)',
  );
  return inventoryReport({
    policy,
    at: opts.at,
    days: opts.days,
    generatedAt: new Date(),
    points: items,
    seriesPoints: series,
    expectedSources: [
      ...policy.content.map((c) => ({ class: 'content' as const, source: c.name })),
      ...mine.map((d) => ({ class: 'database' as const, source: d.id })),
    ],
    pitr: mine.map((d, n) => ({
      source: d.id,
      latestRestorableTime: d.latestRestorableTime?.toISOString(),
      earliestRestorableTime: windows[n]?.earliest?.toISOString(),
      backupRetentionDays: d.backupRetentionDays,
    })),
    firstRecorded: firstPoints,
    validations,
    orphans,
    notes,
  });
}
