// Domain (reports): the compliance report. The policy, line by line, as
// controls with evidence over a period: for each class and source the
// schedule, retention, point-in-time window, DR copies and the isolated
// account's use of them, Object Lock and lifecycle; across the period the
// monthly validation, its data checks, the measured restore time against the
// RTO and the yearly rehearsal; and the vault's own protections. Each control
// is PASS, FAIL or NOT EVALUATED (with why), names the policy key it comes
// from and carries its evidence. It joins what the other reports compute
// (inventory, lifecycle, validation history): nothing is measured twice. Pure.
import type { Policy } from '../../policy/schema.ts';
import { addDays, bothZones } from '../../policy/calendar.ts';
import type { LifecycleReport } from '../lifecycle/report.ts';
import { occurrences } from '../schedule-occurrences.ts';
import { dataCoverage, type ValidationReport } from '../validation-report.ts';
import { CADENCE, type CoverageClass, keptSince, type Point } from './coverage.ts';
import { badge, COLOURS, esc, fmtNumber, gridChart, legend, list, page } from './html.ts';
import { coverageLegend, gapText, type InventoryReport, pitrText, STATE_COLOURS } from './inventory.ts';
import {
  missedMonths,
  monthLegend,
  monthsChart,
  monthWord,
  type ValidationHistory,
} from './validation-history.ts';

export type ControlStatus = 'PASS' | 'FAIL' | 'NOT EVALUATED';

export type ControlKind =
  | 'schedule'
  | 'retention'
  | 'point-in-time'
  | 'dr-copy'
  | 'isolated-use'
  | 'lock-lifecycle'
  | 'validation-monthly'
  | 'validation-data'
  | 'restore-time'
  | 'rehearsal'
  | 'vault-lock'
  | 'vault-encryption'
  | 'vault-access';

export const CONTROL_TITLES: Record<ControlKind, string> = {
  schedule: 'schedule met',
  retention: 'retention held',
  'point-in-time': 'point-in-time window',
  'dr-copy': 'copy in the DR region',
  'isolated-use': 'isolated account can use it',
  'lock-lifecycle': 'Object Lock and lifecycle',
  'validation-monthly': 'monthly validation every month',
  'validation-data': 'validation checked data',
  'restore-time': 'restore within the RTO',
  rehearsal: 'yearly rehearsal',
  'vault-lock': 'versioning and Object Lock',
  'vault-encryption': 'encryption',
  'vault-access': 'only administrators reach it',
};

export interface Control {
  /** area/source/kind, stable for machines. */
  id: string;
  /** database, content, logs, image (per source), validation (across the period) or vault. */
  area: string;
  source?: string;
  kind: ControlKind;
  control: string;
  /** The policy key(s) the requirement comes from. */
  policyKey: string;
  requirement: string;
  status: ControlStatus;
  /** One line: what was found. */
  finding: string;
  /** Ids, times and figures the finding rests on. */
  evidence: string[];
  /** Why a control could not be evaluated. */
  why?: string;
  /** Figures measured on an emulator, not on AWS. */
  emulator?: boolean;
}

/** A kura-managed recovery point in the source region, as the isolated account would need it. */
export interface CopyEvidence {
  class: 'database' | 'image';
  source: string;
  id: string;
  time: string;
  region: string;
  sharedWithIsolated?: boolean;
  encrypted?: boolean;
  /** The point's KMS key allows the isolated account ('aws-managed': it never can). */
  keyAllowsIsolated?: boolean | 'aws-managed';
  keyArn?: string;
  /** A read that failed: evidence that could not be gathered. */
  error?: string;
}

/** An orchestrated restore that may count as the yearly rehearsal. */
export interface RehearsalEvidence {
  requestId: string;
  reason: string;
  status: string;
  startedAt: string;
  finishedAt?: string;
  classes: string[];
  durationSeconds?: number;
  /** Slowest item, for the restore-time control. */
  items: { class: string; source: string; durationSeconds?: number; rtoMinutes: number }[];
}

export interface ComplianceInput {
  policy: Policy;
  from: Date;
  to: Date;
  generatedAt: Date;
  inventory: InventoryReport;
  lifecycle?: LifecycleReport;
  history: ValidationHistory;
  validations: ValidationReport[];
  copies: CopyEvidence[];
  rehearsals: RehearsalEvidence[];
  /** Logs, one point per day held (a loose file or a committed bundle of the day), over their retention. */
  logDays?: Point[];
  /** When kura first recorded a backup (the vault's first-point records). */
  since?: Date;
  /** The endpoint read when it is not AWS. */
  emulatorEndpoint?: string;
  notes?: string[];
}

export interface ComplianceReport {
  kind: 'kura.compliance-report';
  generatedAt: string;
  from: string;
  to: string;
  timezone: string;
  bucket: string;
  emulator?: string;
  summary: { pass: number; fail: number; notEvaluated: number; total: number };
  controls: Control[];
  /** The chart data the page draws: coverage of the last days of the period and the validation months. */
  coverage: {
    days: string[];
    rows: { label: string; cells: { day: string; state: string; title: string }[] }[];
  };
  months: ValidationHistory['months'];
  notes: string[];
}

const PENDING_MS = 60 * 60_000;
const REHEARSAL = /rehears/i;

function control(c: Omit<Control, 'id' | 'control'> & { control?: string }): Control {
  return {
    id: [c.area, c.source, c.kind].filter(Boolean).join('/'),
    control: c.control ?? CONTROL_TITLES[c.kind],
    ...c,
  };
}

const pick = (status: ControlStatus, rest: Omit<Control, 'id' | 'control' | 'status'>) =>
  control({ ...rest, status });

function days(ms: number): string {
  return `${fmtNumber(Math.round((ms / 86_400_000) * 10) / 10)} d`;
}

// ------------------------------------------------------------------ per source

function scheduleControl(i: ComplianceInput, s: InventoryReport['series'][number]): Control {
  const tz = i.policy.timezone;
  const base = {
    area: s.class,
    source: s.source,
    kind: 'schedule' as const,
    policyKey: `schedules.${CADENCE[s.class]}`,
    requirement: `a recovery point for every run of ${s.schedule} (${tz}) the policy keeps, from the first point kura recorded`,
  };
  const from = s.countedFrom
    ? `counted from ${bothZones(s.countedFrom.time, tz)} (${s.countedFrom.basis})`
    : 'no recovery point and no first-point record';
  const evidence = [
    `${s.present} of ${s.expected} expected run(s) in the period have a point; ${from}`,
    ...(s.newest ? [`newest point ${s.newest.id} taken ${bothZones(s.newest.time, tz)}`] : []),
  ];
  if (s.gaps.length)
    return pick('FAIL', {
      ...base,
      finding: `${s.gaps.reduce((n, g) => n + g.missed, 0)} run(s) without a recovery point: ${s.gaps.map(gapText).join('; ')}`,
      evidence: [...evidence, ...s.gaps.map((g) => `gap: ${gapText(g)}`)],
    });
  if (s.expected === 0)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no run was expected in the period',
      why: 'every run of the period is older than the policy keeps, still running, or before the first point',
      evidence,
    });
  if (s.countedFrom?.basis !== 'vault record')
    return pick('NOT EVALUATED', {
      ...base,
      finding: `no gap among the ${s.present} point(s) present, but expected points could only be counted from the oldest point present`,
      why: 'no first-point record in the vault (ledger/first-points/): deleted oldest points could not be told from a source backed up later; the next backup run writes one',
      evidence,
    });
  return pick('PASS', {
    ...base,
    finding: `every one of the ${s.expected} expected run(s) left a point`,
    evidence,
  });
}

function retentionControl(i: ComplianceInput, s: InventoryReport['series'][number]): Control {
  const { policy, to } = i;
  const tz = policy.timezone;
  const cls = s.class;
  const [policyKey, requirement, generations] = retentionRule(policy, cls, s.source);
  const base = { area: cls, source: s.source, kind: 'retention' as const, policyKey, requirement };
  const expr = policy.schedules[CADENCE[cls]];
  const primary = (p: Point) => cls === 'content' || cls === 'logs' || p.region === policy.region;
  // Logs count per day (a loose file or a committed bundle of that day), like the inventory's series.
  const mine = (cls === 'logs' ? (i.logDays ?? []) : i.inventory.points)
    .filter(
      (p) => p.class === cls && p.source === s.source && primary(p) && !Number.isNaN(Date.parse(p.time)),
    )
    .sort((a, b) => a.time.localeCompare(b.time));
  if (!expr)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no schedule',
      why: `${base.policyKey}: not set`,
      evidence: [],
    });
  // Far enough back for what this class keeps (a schedule is stepped through slowly, firing by firing).
  const firings = occurrences(expr, tz, addDays(to, -(keptDays(policy, cls, s.source) + 40)), to);
  const kept = keptSince(policy, cls, s.source, firings, to, mine);
  const start = s.countedFrom ? new Date(s.countedFrom.time) : undefined;
  const keptFirings = firings.filter(
    (f) => f >= kept && (!start || f >= start) && to.getTime() - f.getTime() >= PENDING_MS,
  );
  const oldestTime = mine[0]?.time;
  const oldestId = mine[0]?.id;
  const evidence = [
    oldestTime
      ? `oldest point ${oldestId} taken ${bothZones(oldestTime, tz)} (${days(to.getTime() - Date.parse(oldestTime))} old)`
      : 'no point present',
  ];
  const first = keptFirings[0];
  if (!first)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no run is old enough yet to hold a point the policy keeps',
      why: 'the source was first backed up after the start of its retention window',
      evidence,
    });
  const next = firings[firings.indexOf(first) + 1] ?? to;
  const problems: string[] = [];
  evidence.push(
    `the policy keeps the run of ${bothZones(first, tz)} and every later one (${keptFirings.length} run(s))`,
  );
  if (!oldestTime || Date.parse(oldestTime) >= next.getTime())
    problems.push(
      `the oldest point is ${oldestTime ? `from ${bothZones(oldestTime, tz)}` : 'missing'}; the policy keeps a point from ${bothZones(first, tz)}`,
    );
  if (generations !== undefined) {
    const times = [...new Set(mine.map((p) => p.time))];
    const need = Math.min(generations, keptFirings.length);
    evidence.push(`${times.length} generation(s) present; the policy keeps ${generations}`);
    if (times.length < need) problems.push(`${times.length} generation(s) present; expected ${need}`);
    // One more than the policy is tolerated: the newest is made before the oldest is pruned.
    if (cls !== 'database' && times.length > generations + 1)
      problems.push(`${times.length} generations kept; the policy keeps ${generations} (pruning is behind)`);
  }
  if (cls === 'database') {
    const overdue = mine.filter((p) => Date.parse(p.time) < addDays(kept, -1).getTime());
    const beyond = mine.length - overdue.length >= (policy.database?.minGenerations ?? 0) ? overdue : [];
    if (beyond.length)
      problems.push(
        `${beyond.length} snapshot(s) kept longer than the policy (pruning is behind): ${beyond.map((p) => p.id).join(', ')}`,
      );
  }
  if (problems.length) return pick('FAIL', { ...base, finding: problems.join('; '), evidence });
  return pick('PASS', {
    ...base,
    finding: `the oldest point is as old as the policy requires${generations !== undefined ? ' and the count matches' : ''}`,
    evidence,
  });
}

/** How many days back a class's retention can reach (generations counted as monthly at worst). */
function keptDays(policy: Policy, cls: CoverageClass, source: string): number {
  if (cls === 'database')
    return Math.max(policy.database?.retainDays ?? 0, (policy.database?.minGenerations ?? 0) * 31);
  if (cls === 'content') return (policy.content.find((c) => c.name === source)?.generations ?? 0) * 31;
  if (cls === 'image') return (policy.images?.generations ?? 0) * 31;
  return policy.logs?.classes[source.split('/')[0] ?? '']?.retainDays ?? 0;
}

function retentionRule(
  policy: Policy,
  cls: CoverageClass,
  source: string,
): [string, string, number | undefined] {
  if (cls === 'database')
    return [
      'database.retainDays, database.minGenerations',
      `snapshots kept ${policy.database?.retainDays} days, never fewer than ${policy.database?.minGenerations}`,
      policy.database?.minGenerations,
    ];
  if (cls === 'content') {
    const n = policy.content.findIndex((c) => c.name === source);
    const g = policy.content[n]?.generations;
    return [`content[${n}].generations`, `${g} daily generations of ${source}`, g];
  }
  if (cls === 'image')
    return [
      'images.generations',
      `${policy.images?.generations} image generations`,
      policy.images?.generations,
    ];
  const c = source.split('/')[0] ?? '';
  return [
    `logs.classes.${c}.retainDays`,
    `${c} logs kept ${policy.logs?.classes[c]?.retainDays} days`,
    undefined,
  ];
}

function pitrControl(i: ComplianceInput, s: InventoryReport['series'][number]): Control {
  const base = {
    area: 'database',
    source: s.source,
    kind: 'point-in-time' as const,
    policyKey: 'database.retainDays, database.rpoMinutes',
    requirement: `automated backups cover ${i.policy.database?.retainDays} days; latest restorable time at most ${i.policy.database?.rpoMinutes} min behind`,
  };
  const p = s.pitr;
  if (!p)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'the database is not in the estate',
      why: 'no selected RDS database of that id exists now: its point-in-time window cannot be read (only its snapshots remain)',
      evidence: [],
    });
  const evidence = [
    `${pitrText(p)} (read ${bothZones(i.generatedAt, i.policy.timezone)})`,
    ...(p.earliest && p.latest
      ? [
          `restorable from ${bothZones(p.earliest, i.policy.timezone)} to ${bothZones(p.latest, i.policy.timezone)}`,
        ]
      : []),
  ];
  if (p.drift.length) return pick('FAIL', { ...base, finding: p.drift.join('; '), evidence });
  return pick('PASS', {
    ...base,
    finding: `window of ${p.retentionDays} days, ${fmtNumber(p.lagMinutes ?? 0)} min behind`,
    evidence,
  });
}

/** Points old enough to have their copy and share: everything but the newest run's (done by the next run). */
function settled(i: ComplianceInput, cls: 'database' | 'image', source: string): CopyEvidence[] {
  const expr = i.policy.schedules[CADENCE[cls]];
  const last = expr ? occurrences(expr, i.policy.timezone, addDays(i.to, -70), i.to).at(-1) : undefined;
  return i.copies.filter(
    (c) => c.class === cls && c.source === source && (!last || Date.parse(c.time) < last.getTime()),
  );
}

function drCopyControl(i: ComplianceInput, cls: 'database' | 'image', source: string): Control {
  const db = i.policy.database;
  const region =
    cls === 'database' ? db?.copy?.region : i.policy.images?.copyToDrRegion ? drRegion(i.policy) : undefined;
  const base = {
    area: cls,
    source,
    kind: 'dr-copy' as const,
    policyKey: cls === 'database' ? 'database.copy.region' : 'images.copyToDrRegion',
    requirement: region
      ? `every recovery point also in ${region} (a run later at most)`
      : 'no DR copy asked for',
  };
  if (!region)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'the policy asks for no copy in another region',
      why: `${base.policyKey} is not set`,
      evidence: [],
    });
  const points = settled(i, cls, source);
  const copies = i.inventory.points.filter(
    (p) => p.class === cls && p.source === source && p.region === region,
  );
  if (!points.length)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no point is older than the newest run yet',
      why: 'copies are made by the run after the point',
      evidence: [],
    });
  const missing = points.filter((p) => !copies.some((c) => c.time === p.time));
  const evidence = [
    `${points.length - missing.length} of ${points.length} point(s) have a copy in ${region}`,
  ];
  if (missing.length)
    return pick('FAIL', {
      ...base,
      finding: `${missing.length} point(s) without a copy in ${region}: ${missing.map((m) => `${m.id} (${bothZones(m.time, i.policy.timezone)})`).join(', ')}`,
      evidence,
    });
  return pick('PASS', { ...base, finding: `every settled point has its copy in ${region}`, evidence });
}

function drRegion(policy: Policy): string | undefined {
  return policy.images?.drRegion ?? policy.database?.copy?.region;
}

function isolatedUseControl(i: ComplianceInput, cls: 'database' | 'image', source: string): Control {
  const iso = i.policy.isolatedAccount;
  const shares =
    cls === 'database'
      ? i.policy.database?.shareWithIsolatedAccount
      : i.policy.images?.shareWithIsolatedAccount;
  const base = {
    area: cls,
    source,
    kind: 'isolated-use' as const,
    policyKey: `isolatedAccount.accountId, ${cls === 'database' ? 'database' : 'images'}.shareWithIsolatedAccount`,
    requirement: shares
      ? `every recovery point shared with ${iso?.accountId}, its key usable there`
      : `every recovery point's key usable by ${iso?.accountId} (shared at restore time)`,
  };
  if (!iso)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no isolated account',
      why: 'isolatedAccount is not set',
      evidence: [],
    });
  const points = settled(i, cls, source);
  if (!points.length)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no point is older than the newest run yet',
      why: 'points are shared by the run after the point',
      evidence: [],
    });
  const problems: string[] = [];
  for (const p of points) {
    if (p.error) problems.push(`${p.id}: could not be read (${p.error})`);
    else if (shares && !p.sharedWithIsolated) problems.push(`${p.id} is not shared with ${iso.accountId}`);
    else if (p.encrypted && p.keyAllowsIsolated === 'aws-managed')
      problems.push(
        `${p.id} is encrypted with an AWS managed key (${p.keyArn}), which ${iso.accountId} can never use`,
      );
    else if (p.encrypted && p.keyAllowsIsolated === false)
      problems.push(`${p.id}: key ${p.keyArn} does not allow ${iso.accountId}`);
  }
  const evidence = [
    `${points.length - problems.length} of ${points.length} settled point(s) usable by ${iso.accountId}`,
    ...points
      .slice(-3)
      .map(
        (p) =>
          `${p.id}: ${p.sharedWithIsolated ? 'shared' : 'not shared'}${p.encrypted ? `, key ${p.keyArn ?? '?'} ${p.keyAllowsIsolated === true ? 'allows it' : 'does not allow it'}` : ', unencrypted'}`,
      ),
  ];
  if (problems.length) return pick('FAIL', { ...base, finding: problems.join('; '), evidence });
  return pick('PASS', {
    ...base,
    finding: `the isolated account ${iso.accountId} can restore every settled point`,
    evidence,
  });
}

function lockLifecycleControl(i: ComplianceInput, area: 'content' | 'logs', name: string): Control {
  const n = i.policy.content.findIndex((c) => c.name === name);
  const base = {
    area,
    source: name,
    kind: 'lock-lifecycle' as const,
    policyKey:
      area === 'content'
        ? `content[${n}].generations, vault.objectLock`
        : `logs.classes.${name}.retainDays, logs.transitions, vault.objectLock`,
    requirement:
      'the vault keeps the class as long as the policy says: its lifecycle rules and the Object Lock default as generated',
  };
  const rep = i.lifecycle;
  if (!rep?.drift || rep.vault !== 'present')
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'the vault was not read',
      why:
        rep?.vault === 'absent'
          ? 'the vault bucket does not exist'
          : 'the vault configuration could not be read',
      evidence: rep?.notes ?? [],
    });
  const cls = rep.classes.find((c) => c.name === `${area}: ${name}`);
  const lock = rep.drift.filter((d) => /Object Lock|versioning/.test(d.check));
  const problems = [
    ...(cls?.rules ?? [])
      .filter((r) => r.onBucket === 'missing' || r.onBucket === 'differs')
      .map(
        (r) =>
          `rule ${r.id}: ${r.onBucket === 'missing' ? 'missing on the bucket' : r.differences.join('; ')}`,
      ),
    ...lock.filter((d) => !d.ok).map((d) => `${d.check}: expected ${d.expected}, found ${d.actual}`),
  ];
  const evidence = [
    ...(cls?.rules ?? []).map((r) => `rule ${r.id}: ${r.onBucket}`),
    ...lock.map((d) => `${d.check}: ${d.actual}`),
  ];
  if (problems.length) return pick('FAIL', { ...base, finding: problems.join('; '), evidence });
  return pick('PASS', { ...base, finding: 'every rule matches and Object Lock holds', evidence });
}

// ------------------------------------------------------------------ across the period

function monthlyControl(i: ComplianceInput): Control {
  const base = {
    area: 'validation',
    kind: 'validation-monthly' as const,
    policyKey: 'schedules.validation',
    requirement: `a validation every month (${i.policy.schedules.validation ?? 'not scheduled'}), each passing`,
  };
  const months = i.history.months ?? [];
  if (!i.policy.schedules.validation || months.length === 0)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no validation was due in the period',
      why: i.policy.schedules.validation
        ? 'the period holds no firing of the schedule'
        : 'schedules.validation is not set',
      evidence: [],
    });
  const bad = missedMonths(i.history);
  const evidence = months.map(
    (m) => `${m.month}: ${monthWord(m)}${m.runs.length ? ` (${m.runs.join(', ')})` : ''}`,
  );
  const counted = months.filter((m) => m.state !== 'before' && m.state !== 'not-due');
  if (bad.length)
    return pick('FAIL', {
      ...base,
      finding: `${bad.length} month(s) missed or failed: ${bad.map((m) => `${m.month} ${monthWord(m)}`).join(', ')}`,
      evidence,
    });
  if (!counted.length)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no month of the period is after kura began',
      why: 'kura recorded its first backup after the last validation of the period was due',
      evidence,
    });
  return pick('PASS', {
    ...base,
    finding: `every one of ${counted.length} month(s) has a passing validation`,
    evidence,
  });
}

function runsInPeriod(i: ComplianceInput): ValidationReport[] {
  return i.validations.filter((v) => {
    const t = Date.parse(v.time);
    return t >= i.from.getTime() && t <= i.to.getTime();
  });
}

function dataControl(i: ComplianceInput): Control {
  const base = {
    area: 'validation',
    kind: 'validation-data' as const,
    policyKey: 'validation.sqlProbes, validation.contentSample',
    requirement:
      'each validation checks the restored data (SQL probes, SHA-256 of objects), not only that the restore worked',
  };
  const runs = runsInPeriod(i);
  if (!runs.length)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no validation run in the period',
      why: 'nothing to look at',
      evidence: [],
    });
  const lacking = runs.map((r) => ({ r, d: dataCoverage(r.items) })).filter((x) => x.d.unchecked.length > 0);
  const evidence = runs.map((r) => {
    const d = dataCoverage(r.items);
    return `${r.runId}: data checked for ${d.checked.length} of ${d.checked.length + d.unchecked.length} item(s)`;
  });
  if (lacking.length)
    return pick('FAIL', {
      ...base,
      finding: `${lacking.length} run(s) checked only infrastructure for: ${lacking.map((x) => `${x.r.runId} (${x.d.unchecked.join(', ')})`).join('; ')}`,
      evidence,
    });
  return pick('PASS', { ...base, finding: `every one of ${runs.length} run(s) checked the data`, evidence });
}

function restoreTimeControl(i: ComplianceInput): Control {
  const rto = i.policy.validation?.rto ?? { dataMinutes: 30, systemMinutes: 180, logsMinutes: 30 };
  const base = {
    area: 'validation',
    kind: 'restore-time' as const,
    policyKey: 'validation.rto.dataMinutes, validation.rto.systemMinutes, validation.rto.logsMinutes',
    requirement: `data back within ${rto.dataMinutes} min, a server within ${rto.systemMinutes} min, logs within ${rto.logsMinutes} min`,
  };
  const measured = [
    ...runsInPeriod(i).flatMap((r) =>
      r.items
        .filter((x) => x.restore)
        .map((x) => ({
          what: `validation ${r.runId} ${x.class} ${x.source}`,
          minutes: (x.restore?.durationSeconds ?? 0) / 60,
          target: x.restore?.rtoMinutes ?? 0,
          emulator: Boolean(r.measuredOn),
        })),
    ),
    ...i.rehearsals.flatMap((r) =>
      r.items
        .filter((x) => x.durationSeconds !== undefined)
        .map((x) => ({
          what: `restore ${r.requestId} ${x.class} ${x.source}`,
          minutes: (x.durationSeconds ?? 0) / 60,
          target: x.rtoMinutes,
          emulator: Boolean(i.emulatorEndpoint),
        })),
    ),
  ];
  const emulator = measured.some((m) => m.emulator) || Boolean(i.emulatorEndpoint);
  const label = emulator ? ' (measured on an emulator: not AWS figures)' : '';
  if (!measured.length)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no restore was measured in the period',
      why: 'no validation or rehearsal restored anything',
      evidence: [],
      emulator,
    });
  const over = measured.filter((m) => m.minutes > m.target);
  const slowest = [...measured].sort((a, b) => b.minutes / b.target - a.minutes / a.target).slice(0, 5);
  const evidence = slowest.map(
    (m) =>
      `${m.what}: ${fmtNumber(Math.round(m.minutes * 10) / 10)} min of ${m.target}${m.emulator ? ' (emulator)' : ''}`,
  );
  if (over.length)
    return pick('FAIL', {
      ...base,
      finding: `${over.length} restore(s) over the RTO${label}: ${over.map((m) => `${m.what} ${fmtNumber(Math.round(m.minutes * 10) / 10)} min of ${m.target}`).join('; ')}`,
      evidence,
      emulator,
    });
  return pick('PASS', {
    ...base,
    finding: `every one of ${measured.length} measured restore(s) within its RTO${label}`,
    evidence,
    emulator,
  });
}

/** A rehearsal: an orchestrated restore that succeeded and says it is one, or that restored every class the policy backs up. */
export function isRehearsal(r: RehearsalEvidence, policy: Policy): boolean {
  if (r.status !== 'SUCCEEDED') return false;
  if (REHEARSAL.test(r.reason)) return true;
  const wanted = [
    ...(policy.database ? ['database'] : []),
    ...(policy.images ? ['image'] : []),
    ...(policy.content.length ? ['content'] : []),
    ...(policy.logs ? ['logs'] : []),
  ];
  return wanted.every((c) => r.classes.includes(c));
}

function rehearsalControl(i: ComplianceInput): Control {
  const base = {
    area: 'validation',
    kind: 'rehearsal' as const,
    policyKey: 'schedules.rehearsal (the reference policy: at least once a year)',
    requirement:
      'the restore procedure rehearsed end to end at least once in the 12 months before the end of the period',
  };
  const yearAgo = addDays(i.to, -366);
  const done = i.rehearsals
    .filter((r) => isRehearsal(r, i.policy))
    .filter((r) => Date.parse(r.startedAt) >= yearAgo.getTime() && Date.parse(r.startedAt) <= i.to.getTime());
  const evidence = done.map(
    (r) =>
      `${r.requestId} ${bothZones(r.startedAt, i.policy.timezone)}: ${r.classes.join(', ')} (${r.reason})`,
  );
  if (done.length) return pick('PASS', { ...base, finding: `rehearsed ${done.length} time(s)`, evidence });
  if (i.since && i.since > yearAgo)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no rehearsal yet',
      why: `kura has run since ${bothZones(i.since, i.policy.timezone)}, less than a year: the first rehearsal is due by ${bothZones(addDays(i.since, 366), i.policy.timezone)}`,
      evidence,
    });
  return pick('FAIL', {
    ...base,
    finding: `no rehearsal since ${bothZones(yearAgo, i.policy.timezone)}`,
    evidence: [
      'a rehearsal is an orchestrated restore that SUCCEEDED with "rehearsal" in its reason or every class of the policy restored',
    ],
  });
}

// ------------------------------------------------------------------ vault

function vaultControls(i: ComplianceInput): Control[] {
  const groups: [ControlKind, RegExp, string, string][] = [
    [
      'vault-lock',
      /^(vault bucket|versioning|Object Lock)/,
      'vault.objectLock',
      'versioned, Object Lock on, with the policy default',
    ],
    ['vault-encryption', /encryption/, 'vault.kmsKeyAlias', 'encrypted with the policy key'],
    [
      'vault-access',
      /^(public access block|bucket policy|readable)/,
      'vault.administrators',
      'never public, TLS only, administrators and kura only',
    ],
  ];
  return groups.map(([kind, re, policyKey, requirement]) => {
    const base = { area: 'vault', source: i.policy.vault.bucket, kind, policyKey, requirement };
    const checks = (i.lifecycle?.drift ?? []).filter((d) => re.test(d.check));
    if (!i.lifecycle?.drift || !checks.length)
      return pick('NOT EVALUATED', {
        ...base,
        finding: 'the vault was not read',
        why: 'the vault configuration could not be read',
        evidence: [],
      });
    const bad = checks.filter((d) => !d.ok);
    const evidence = checks.map((d) => `${d.check}: ${d.actual}${d.ok ? '' : ` (expected ${d.expected})`}`);
    if (bad.length)
      return pick('FAIL', {
        ...base,
        finding: bad.map((d) => `${d.check}: expected ${d.expected}, found ${d.actual}`).join('; '),
        evidence,
      });
    return pick('PASS', { ...base, finding: 'as the policy says', evidence });
  });
}

// ------------------------------------------------------------------ report

const CLASS_ORDER: CoverageClass[] = ['database', 'content', 'logs', 'image'];

export function complianceReport(i: ComplianceInput): ComplianceReport {
  const controls: Control[] = [];
  for (const cls of CLASS_ORDER) {
    for (const s of i.inventory.series.filter((x) => x.class === cls)) {
      controls.push(scheduleControl(i, s), retentionControl(i, s));
      if (cls === 'database') controls.push(pitrControl(i, s));
      if (cls === 'database' || cls === 'image')
        controls.push(drCopyControl(i, cls, s.source), isolatedUseControl(i, cls, s.source));
    }
    if (cls === 'content')
      for (const c of i.policy.content) controls.push(lockLifecycleControl(i, 'content', c.name));
    if (cls === 'logs')
      for (const c of Object.keys(i.policy.logs?.classes ?? {}))
        controls.push(lockLifecycleControl(i, 'logs', c));
  }
  controls.push(
    monthlyControl(i),
    dataControl(i),
    restoreTimeControl(i),
    rehearsalControl(i),
    ...vaultControls(i),
  );
  const count = (s: ControlStatus) => controls.filter((c) => c.status === s).length;
  const tail = i.inventory.days.slice(-62);
  return {
    kind: 'kura.compliance-report',
    generatedAt: i.generatedAt.toISOString(),
    from: i.from.toISOString(),
    to: i.to.toISOString(),
    timezone: i.policy.timezone,
    bucket: i.policy.vault.bucket,
    ...(i.emulatorEndpoint ? { emulator: i.emulatorEndpoint } : {}),
    summary: {
      pass: count('PASS'),
      fail: count('FAIL'),
      notEvaluated: count('NOT EVALUATED'),
      total: controls.length,
    },
    controls,
    coverage: {
      days: tail,
      rows: i.inventory.series.map((s) => ({
        label: `${s.class} · ${s.source}`,
        cells: s.cells.filter((c) => tail.includes(c.day)),
      })),
    },
    months: i.history.months,
    notes: [
      ...(i.emulatorEndpoint
        ? [
            `read from an emulator (${i.emulatorEndpoint}), not AWS: restore times, windows and states are the emulator's; the controls show how kura judges, not how production stands`,
          ]
        : []),
      ...(i.notes ?? []),
    ],
  };
}

/** FAIL lines, one per failed control: what `--check` fails on. */
export function failedControls(r: ComplianceReport): string[] {
  return r.controls.filter((c) => c.status === 'FAIL').map((c) => `${c.id}: ${c.finding}`);
}

// ------------------------------------------------------------------ renderings

export function controlRows(r: ComplianceReport): Record<string, string>[] {
  return r.controls.map((c) => ({
    status: c.status,
    area: c.area,
    source: c.source ?? '',
    control: c.control,
    finding: `${c.finding}${c.why ? ` (not evaluated: ${c.why})` : ''}`,
    'policy key': c.policyKey,
  }));
}

const csvCell = (v: unknown) => {
  const s = String(v ?? '');
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One row per control, for the auditor's spreadsheet (RFC 4180). */
export function complianceCsv(r: ComplianceReport): string {
  const head = [
    'id',
    'status',
    'area',
    'source',
    'control',
    'policy key',
    'requirement',
    'finding',
    'evidence',
    'not evaluated because',
    'emulator',
    'period from',
    'period to',
  ];
  const rows = r.controls.map((c) => [
    c.id,
    c.status,
    c.area,
    c.source ?? '',
    c.control,
    c.policyKey,
    c.requirement,
    c.finding,
    c.evidence.join(' | '),
    c.why ?? '',
    c.emulator || r.emulator ? 'yes' : 'no',
    r.from,
    r.to,
  ]);
  return `${[head, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

function periodText(r: ComplianceReport): string {
  return `${bothZones(r.from, r.timezone)} to ${bothZones(r.to, r.timezone)}`;
}

function summaryText(r: ComplianceReport): string {
  const s = r.summary;
  return `${s.total} controls: ${s.pass} PASS, ${s.fail} FAIL, ${s.notEvaluated} NOT EVALUATED`;
}

export function complianceMarkdown(r: ComplianceReport): string {
  const md = (v: string) => v.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# kura compliance: ${r.bucket}`,
    '',
    `Period ${periodText(r)}; generated ${bothZones(r.generatedAt, r.timezone)}.`,
    '',
    `**${summaryText(r)}**`,
    '',
    ...(r.emulator ? [`> Read from an emulator (${r.emulator}): figures are not AWS's.`, ''] : []),
    '| status | area | source | control | finding | policy key |',
    '|---|---|---|---|---|---|',
    ...controlRows(r).map(
      (c) =>
        `| ${c.status} | ${c.area} | ${md(c.source ?? '')} | ${c.control} | ${md(c.finding ?? '')} | ${md(c['policy key'] ?? '')} |`,
    ),
    '',
    '## Evidence',
    '',
  ];
  for (const c of r.controls) {
    lines.push(`### ${c.status} ${c.id}`, '', `Requirement (${c.policyKey}): ${c.requirement}`, '');
    for (const e of c.evidence) lines.push(`- ${e}`);
    if (c.why) lines.push(`- not evaluated: ${c.why}`);
    lines.push('');
  }
  if (r.notes.length) lines.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

const STATUS_CLASS: Record<ControlStatus, string> = { PASS: 'good', FAIL: 'bad', 'NOT EVALUATED': 'warn' };
const MATRIX_COLOURS: Record<string, string> = {
  PASS: COLOURS.ok,
  FAIL: COLOURS.missing,
  'NOT EVALUATED': COLOURS.warn,
  none: COLOURS.none,
};

/** Rows: each class/source (and the period, the vault); columns: the controls; one cell per control. */
function matrix(r: ComplianceReport): string {
  const kinds = Object.keys(CONTROL_TITLES) as ControlKind[];
  const rows = new Map<string, Control[]>();
  for (const c of r.controls) {
    const label = c.area === 'validation' ? 'across the period' : `${c.area} · ${c.source ?? ''}`;
    rows.set(label, [...(rows.get(label) ?? []), c]);
  }
  const used = kinds.filter((k) => r.controls.some((c) => c.kind === k));
  return gridChart({
    id: 'controls',
    columns: used.map((k) => CONTROL_TITLES[k]),
    rows: [...rows.entries()].map(([label, cs]) => ({
      label,
      cells: used.map((k) => {
        const c = cs.find((x) => x.kind === k);
        return c
          ? { state: c.status, title: `${c.id}: ${c.status}: ${c.finding}` }
          : { state: 'none', title: `${label}: ${CONTROL_TITLES[k]} does not apply` };
      }),
    })),
    colours: MATRIX_COLOURS,
    labelEvery: 1,
    minCell: 26,
  });
}

export function complianceHtml(r: ComplianceReport): string {
  const s = r.summary;
  const rows = r.controls
    .map(
      (c) =>
        `<tr class="${STATUS_CLASS[c.status]}"><td><b>${esc(c.status)}</b></td><td>${esc(c.area)}${c.source ? `<br><small>${esc(c.source)}</small>` : ''}</td><td>${esc(c.control)}</td><td>${esc(c.finding)}${c.why ? `<br><small>not evaluated: ${esc(c.why)}</small>` : ''}${c.emulator ? '<br><small>measured on an emulator: not AWS figures</small>' : ''}</td><td><ul>${c.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul></td><td><code>${esc(c.policyKey)}</code><br><small>${esc(c.requirement)}</small></td></tr>`,
    )
    .join('\n');
  const body = [
    `<p>${badge(`${s.pass} PASS`, 'ok')} ${badge(`${s.fail} FAIL`, s.fail ? 'bad' : 'ok')} ${badge(`${s.notEvaluated} NOT EVALUATED`, 'warn')} of ${s.total} controls, each tied to the policy key it comes from.</p>`,
    ...(r.emulator
      ? [`<p class="note"><b>Read from an emulator</b> (${esc(r.emulator)}): figures are not AWS's.</p>`]
      : []),
    '<h2>Controls at a glance</h2>',
    matrix(r),
    legend([
      [MATRIX_COLOURS.PASS ?? '', 'PASS'],
      [MATRIX_COLOURS.FAIL ?? '', 'FAIL'],
      [MATRIX_COLOURS['NOT EVALUATED'] ?? '', 'NOT EVALUATED'],
      [MATRIX_COLOURS.none ?? '', 'does not apply'],
    ]),
    ...(r.months?.length
      ? [
          `<h2>Monthly validation, month by month (${esc(r.timezone)})</h2>`,
          monthsChart('months', r.months),
          monthLegend(),
        ]
      : []),
    `<h2>Backup coverage, last ${r.coverage.days.length} days of the period</h2>`,
    gridChart({
      id: 'coverage',
      columns: r.coverage.days.map((d) => d.slice(5)),
      rows: r.coverage.rows,
      colours: STATE_COLOURS,
      labelEvery: r.coverage.days.length > 45 ? 7 : 1,
    }),
    coverageLegend(),
    '<h2>Controls and evidence</h2>',
    `<table class="controls"><thead><tr><th>status</th><th>area</th><th>control</th><th>finding</th><th>evidence</th><th>policy key and requirement</th></tr></thead><tbody>\n${rows}\n</tbody></table>`,
    r.notes.length ? `<h2>Notes</h2>${list(r.notes)}` : '',
  ].join('\n');
  return page(
    `kura compliance: ${r.bucket}`,
    `Period ${periodText(r)} · generated ${bothZones(r.generatedAt, r.timezone)} · ${summaryText(r)}`,
    body,
  );
}
