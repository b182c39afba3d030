// Use case: the compliance report. Reads what the other reports read (the
// inventory with its coverage and point-in-time windows, the lifecycle audit
// of the vault, the validation history month by month) plus what only this
// report asks: whether the isolated account can use each recovery point, and
// the orchestrated restores that count as rehearsals. The pure report joins
// them into controls (shared/domain/reports/compliance.ts).
import type { ComplianceReportPorts } from '../aws/report-ports.ts';
import { addDays } from '../policy/calendar.ts';
import {
  type ComplianceReport,
  complianceReport,
  type RehearsalEvidence,
} from '../domain/reports/compliance.ts';
import { STATED_PRICES } from '../domain/reports/cost.ts';
import { validationHistory } from '../domain/reports/validation-history.ts';
import {
  type ChainEntry,
  isRehearsalRun,
  REHEARSAL_REASON,
  type ValidationReport,
} from '../domain/validation-report.ts';
import { SealError } from '../domain/seals.ts';
import type { RestoreReport } from '../restore/plan.ts';
import type { Deps } from '../aws/deps.ts';
import { lifecycleAudit } from './report-lifecycle.ts';
import {
  buildInventoryReport,
  earliestBackup,
  logDayPoints,
  readFirstPoints,
  readForReport,
  readReports,
} from './report-inventory.ts';
import type { RestoreState } from './restore.ts';

export interface ComplianceOptions {
  from: Date;
  to: Date;
  now?: Date;
}

/** Orchestrated restores recorded in the vault, as rehearsal and restore-time evidence. */
export async function rehearsals(
  store: ComplianceReportPorts['restores'],
  rehearsalReports: ComplianceReportPorts['rehearsalReports'],
  notes: string[],
): Promise<RehearsalEvidence[]> {
  const ids = await readForReport(notes, 'restores', '', () => store.list(), [] as string[]);
  const out: RehearsalEvidence[] = [];
  for (const id of ids) {
    // A yearly rehearsal's restore is judged by its rehearsal report below (checked, cleaned
    // up, timed against the system RTO): its restore record alone would count a failed one.
    if (isRehearsalRun(id)) continue;
    const state = await store.get<RestoreState>(id, 'state.json');
    // The store holds the report against its seal: one that fails is named, never counted as evidence.
    let report: RestoreReport | undefined;
    try {
      report = await store.get<RestoreReport>(id, 'report.json');
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      notes.push(`restore ${id}: report not trusted: ${err.message}`);
      continue;
    }
    if (!state || !report) continue;
    out.push({
      requestId: id,
      reason: state.plan.reason,
      status: report.status,
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      classes: [...new Set(report.items.filter((i) => i.status === 'done').map((i) => i.class))],
      durationSeconds: report.durationSeconds,
      items: report.items.map((i) => ({
        class: i.class,
        source: i.source,
        durationSeconds: i.durationSeconds,
        rtoMinutes: i.rtoMinutes,
      })),
    });
  }
  // The yearly rehearsals (schedules.rehearsal): the whole system restored, checked and cleaned up.
  const reports = await readForReport(notes, 'rehearsal reports', '', () => rehearsalReports(), []);
  for (const { key, body, sealProblem } of reports as ChainEntry[]) {
    if (sealProblem) {
      notes.push(`rehearsal report ${key} not trusted: ${sealProblem}`);
      continue;
    }
    const r = JSON.parse(body) as ValidationReport;
    const restored = r.items.filter((i) => i.restore);
    out.push({
      requestId: r.runId,
      reason: r.rehearsal?.reason ?? REHEARSAL_REASON,
      status: r.verdict === 'PASS' ? 'SUCCEEDED' : 'FAILED',
      startedAt: r.rehearsal?.system?.startedAt ?? r.time,
      finishedAt: r.rehearsal?.system?.finishedAt,
      classes: [...new Set(r.items.filter((i) => i.status === 'pass').map((i) => i.class))],
      durationSeconds: r.rehearsal?.system ? Math.round(r.rehearsal.system.minutes * 60) : undefined,
      items: restored.map((i) => ({
        class: i.class,
        source: i.source,
        durationSeconds: i.restore?.durationSeconds,
        rtoMinutes: i.restore?.rtoMinutes ?? 0,
      })),
    });
  }
  return out;
}

export async function buildComplianceReport(
  deps: Deps,
  ports: ComplianceReportPorts,
  opts: ComplianceOptions,
): Promise<ComplianceReport> {
  const { policy, clients } = deps;
  const now = opts.now ?? new Date();
  const notes: string[] = [];
  const [firstPoints, entries] = await Promise.all([
    readFirstPoints(ports, notes),
    readReports(ports, notes),
  ]);
  const days = Math.max(1, Math.ceil((opts.to.getTime() - opts.from.getTime()) / 86_400_000));
  const inventory = await buildInventoryReport(deps, ports, {
    at: opts.to,
    days,
    read: { firstPoints, reports: entries },
  });
  notes.push(...inventory.notes);
  const lifecycle = await readForReport(
    notes,
    "the vault's configuration",
    '',
    () => lifecycleAudit(deps, ports, { now, prices: STATED_PRICES }),
    undefined,
  );
  if (lifecycle) notes.push(...lifecycle.notes.filter((n) => !notes.includes(n)));
  const validations: ValidationReport[] = [];
  for (const e of entries) {
    try {
      validations.push(JSON.parse(e.body) as ValidationReport);
    } catch {
      // the history names it (and `kura report validation --verify`)
    }
  }
  const since = earliestBackup(firstPoints);
  const history = validationHistory(entries, now, { policy, from: opts.from, to: opts.to, since });
  const recorded = [...firstPoints.values()].filter((f) => f.class === 'database').map((f) => f.source);
  const databases = policy.database ? await ports.backedUpDatabases(recorded) : [];
  const copies = await ports.recoveryPointAccess(databases);
  const longestLogs = Math.max(0, ...Object.values(policy.logs?.classes ?? {}).map((c) => c.retainDays));
  const logDays = policy.logs
    ? await logDayPoints(
        deps,
        ports,
        inventory.points.filter((p) => p.class === 'logs'),
        addDays(opts.to, -(longestLogs + 40)),
      )
    : [];
  return complianceReport({
    policy,
    from: opts.from,
    to: opts.to,
    generatedAt: now,
    inventory,
    lifecycle,
    history,
    validations,
    copies,
    rehearsals: await rehearsals(ports.restores, () => ports.rehearsalReports(), notes),
    logDays,
    since,
    ...(clients.endpoint ? { emulatorEndpoint: clients.endpoint } : {}),
    notes,
  });
}
