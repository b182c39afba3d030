// Domain (reports): projected monthly storage cost per backup class, from the
// volume each class holds now, the policy's retention and lifecycle
// transitions, and a price table that is STATED here (or given with
// --prices), never fetched: an auditor must be able to see which prices a
// figure rests on. Pure.
import type { Policy } from '../../policy/schema.ts';
import { bundleExpirationDays, bundleTransitions } from '../lifecycle/logs.ts';

export interface PriceTable {
  region: string;
  currency: string;
  /** When the prices were read, and how sure that reading is. */
  asOf: string;
  source: string;
  /** Price per GB-month by storage class; RDS_SNAPSHOT and EBS_SNAPSHOT for the snapshot classes. */
  perGbMonth: Record<string, number>;
}

/**
 * List prices for ap-northeast-1 (Tokyo), first pricing tier, storage only
 * (no requests, transitions, retrievals or minimum-duration charges).
 */
export const STATED_PRICES: PriceTable = {
  region: 'ap-northeast-1',
  currency: 'USD',
  asOf: '2025-01 (read from the AWS price pages when this table was written; not re-checked since)',
  source:
    'aws.amazon.com/s3/pricing (storage, first 50 TB), aws.amazon.com/ebs/pricing (snapshots, standard tier), aws.amazon.com/rds/mysql/pricing (backup storage beyond the free allowance)',
  perGbMonth: {
    STANDARD: 0.025,
    STANDARD_IA: 0.0138,
    GLACIER_IR: 0.005,
    GLACIER: 0.0045,
    DEEP_ARCHIVE: 0.002,
    RDS_SNAPSHOT: 0.095,
    EBS_SNAPSHOT: 0.05,
  },
};

/** A price table from a --prices file; every problem is named. */
export function parsePrices(value: unknown, file: string): PriceTable {
  const v = value as Partial<PriceTable> | null;
  const problems: string[] = [];
  for (const k of ['region', 'currency', 'asOf', 'source'] as const)
    if (typeof v?.[k] !== 'string') problems.push(`${file}: ${k}: expected a string`);
  const per = v?.perGbMonth;
  if (typeof per !== 'object' || per === null) problems.push(`${file}: perGbMonth: expected an object`);
  else {
    for (const [k, n] of Object.entries(per))
      if (typeof n !== 'number' || n < 0) problems.push(`${file}: perGbMonth.${k}: expected a price >= 0`);
    for (const k of Object.keys(STATED_PRICES.perGbMonth))
      if (!(k in per)) problems.push(`${file}: perGbMonth.${k}: missing`);
  }
  if (problems.length) throw new Error(problems.join('\n'));
  return v as PriceTable;
}

/** What one class holds now, as measured. */
export interface ClassVolume {
  name: string;
  kind: 'content' | 'logs' | 'database' | 'image' | 'other';
  bytes: number;
  /** Bytes by the storage class they sit in now (snapshots: RDS_SNAPSHOT / EBS_SNAPSHOT). */
  byStorageClass: Record<string, number>;
  /** logs: days of logs held (distinct loose days, plus 30.44 per bundled month). */
  daysHeld?: number;
  /** logs: the share of bytes in objects above the transition size filter. */
  bytesAboveMinSize?: number;
  /** snapshots: recovery points held now, and their distinct sources. */
  count?: number;
  sources?: number;
}

export interface CostRow {
  name: string;
  bytesNow: number;
  monthlyNow: number;
  /** Bytes per storage class once the class holds a full retention window. */
  steady: Record<string, number>;
  monthlySteady: number;
  basis: string;
}

export interface CostReport {
  prices: PriceTable;
  rows: CostRow[];
  totalNow: number;
  totalSteady: number;
  notes: string[];
}

const GB = 1024 ** 3;
const MONTH_DAYS = 30.44;

function monthly(bytes: Record<string, number>, prices: PriceTable, missing: Set<string>): number {
  let sum = 0;
  for (const [cls, b] of Object.entries(bytes)) {
    const p = prices.perGbMonth[cls];
    if (p === undefined) missing.add(cls);
    sum += (b / GB) * (p ?? 0);
  }
  return sum;
}

const addTo = (acc: Record<string, number>, cls: string, b: number) => {
  if (b > 0) acc[cls] = (acc[cls] ?? 0) + b;
};

/** Days an object spends in each storage class between creation and expiry. */
export function daysPerClass(
  expireDays: number,
  transitions: { StorageClass: string; TransitionInDays: number }[],
): Record<string, number> {
  const out: Record<string, number> = {};
  let from = 0;
  let cls = 'STANDARD';
  for (const t of [...transitions].sort((a, b) => a.TransitionInDays - b.TransitionInDays)) {
    if (t.TransitionInDays >= expireDays) break;
    addTo(out, cls, t.TransitionInDays - from);
    from = t.TransitionInDays;
    cls = t.StorageClass;
  }
  addTo(out, cls, expireDays - from);
  return out;
}

function steadyFor(v: ClassVolume, policy: Policy): { steady: Record<string, number>; basis: string } {
  if (v.kind === 'logs' && policy.logs) {
    const logClass = v.name.replace(/^logs: /, '');
    const retain = policy.logs.classes[logClass]?.retainDays;
    if (retain === undefined || !v.daysHeld)
      return { steady: { ...v.byStorageClass }, basis: 'no retention or no days held: kept as now' };
    const perDay = v.bytes / v.daysHeld;
    // Loose files wait keepMonths and, on average, half a month more for the monthly bundling.
    const looseDays = policy.logs.keepMonths * MONTH_DAYS + MONTH_DAYS / 2;
    const expire = bundleExpirationDays(retain, policy.logs.keepMonths);
    const big = v.bytes > 0 ? (v.bytesAboveMinSize ?? v.bytes) / v.bytes : 1;
    const steady: Record<string, number> = {};
    addTo(steady, 'STANDARD', perDay * looseDays);
    for (const [cls, d] of Object.entries(daysPerClass(expire, bundleTransitions(policy.logs, expire))))
      addTo(steady, cls, perDay * d * big);
    addTo(steady, 'STANDARD', perDay * expire * (1 - big));
    return {
      steady,
      basis: `${fmtBytes(perDay)}/day (${fmtBytes(v.bytes)} over ${Math.round(v.daysHeld)} days held); loose ~${Math.round(looseDays)} days, then bundles kept ${expire} days through the lifecycle transitions; bundles counted at the loose size (compression only lowers it)`,
    };
  }
  if ((v.kind === 'database' || v.kind === 'image') && v.count && v.sources) {
    const cls = v.kind === 'database' ? 'RDS_SNAPSHOT' : 'EBS_SNAPSHOT';
    const regions =
      v.kind === 'database' ? (policy.database?.copy ? 2 : 1) : policy.images?.copyToDrRegion ? 2 : 1;
    const perSource =
      v.kind === 'database'
        ? Math.max(policy.database?.retainDays ?? 1, policy.database?.minGenerations ?? 1)
        : (policy.images?.generations ?? 1);
    const expected = v.sources * perSource * regions;
    return {
      steady: { [cls]: (v.bytes / v.count) * expected },
      basis: `upper bound: ${expected} snapshot(s) (${v.sources} source(s) × ${perSource} kept × ${regions} region(s)) each at its full provisioned size; snapshots are incremental, so the bill is lower`,
    };
  }
  if (v.kind === 'content')
    return {
      steady: { ...v.byStorageClass },
      basis:
        'a mirror of the source plus replaced versions for the generations kept: stays at about the volume held now',
    };
  return { steady: { ...v.byStorageClass }, basis: 'manifests, reports and work files: kept as now' };
}

export function projectCosts(policy: Policy, volumes: ClassVolume[], prices: PriceTable): CostReport {
  const missing = new Set<string>();
  const rows = volumes.map((v) => {
    const { steady, basis } = steadyFor(v, policy);
    return {
      name: v.name,
      bytesNow: v.bytes,
      monthlyNow: monthly(v.byStorageClass, prices, missing),
      steady,
      monthlySteady: monthly(steady, prices, missing),
      basis,
    };
  });
  const notes = [
    `prices are STATED, not fetched: ${prices.currency} per GB-month in ${prices.region}, as of ${prices.asOf}; source: ${prices.source}. Override with --prices <file.json>.`,
    'storage only: requests, lifecycle transitions, retrievals, minimum storage durations (30/90/180 days) and Glacier per-object metadata are not included',
  ];
  if (missing.size) notes.push(`no price for ${[...missing].join(', ')}: counted as 0`);
  return {
    prices,
    rows,
    totalNow: rows.reduce((a, r) => a + r.monthlyNow, 0),
    totalSteady: rows.reduce((a, r) => a + r.monthlySteady, 0),
    notes,
  };
}

export function fmtBytes(b: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let n = b;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

export function fmtMoney(n: number, currency: string): string {
  const sym = currency === 'USD' ? '$' : `${currency} `;
  return n > 0 && n < 0.01 ? `< ${sym}0.01` : `${sym}${n.toFixed(2)}`;
}
