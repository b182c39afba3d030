// Domain: the monthly validation report. Pure: builds the verdict from what
// each item's restore, checks and cleanup recorded, renders it for people
// (HTML, Markdown) and for machines (canonical JSON), and links each report to
// the one before by the previous report's SHA-256 (a hash chain an auditor can
// verify without trusting kura).
import { createHash } from 'node:crypto';
import { bothZones } from '../policy/calendar.ts';
import type { Objective } from './recovery-objectives.ts';
import { esc } from './reports/html.ts';

export type ValidatedClass = 'database' | 'image' | 'content' | 'logs';
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';
export type ItemStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  value?: string | number | boolean | null;
}

export interface ItemOutcome {
  class: ValidatedClass;
  source: string;
  recoveryPoint?: { id: string; time: string; region: string };
  status: ItemStatus;
  /** Why it failed or was skipped, in one line. */
  reason?: string;
  restore?: {
    startedAt: string;
    finishedAt: string;
    durationSeconds: number;
    rtoMinutes: number;
    withinRto: boolean;
    endpoint?: string;
  };
  /** Age of the recovery point at the run's time (how old the newest backup was). */
  recoveryPointAgeMinutes?: number;
  /** Data the recovery point does not hold: backup time minus the newest row (database with a latestRowAge probe) or the point's age. */
  achievedRpoMinutes?: number;
  /** Recovery objectives measured from the real sources, each with its target and pass or fail. */
  objectives?: Objective[];
  checks: CheckResult[];
  cleanup: { status: 'done' | 'failed' | 'not-needed'; detail?: string; resources: string[] };
  /** The recovery point was tagged kura:validated. */
  markedValidated?: boolean;
}

export interface ClassSummary {
  class: ValidatedClass;
  configured: boolean;
  items: number;
  passed: number;
  failed: number;
  skipped: number;
  note?: string;
}

export interface ValidationReport {
  kind: 'kura.validation-report';
  version: 1;
  runId: string;
  /** The scheduled time of the run. */
  time: string;
  generatedAt: string;
  sourceAccount?: string;
  isolatedAccount?: string;
  region: string;
  verdict: 'PASS' | 'FAIL';
  summary: string;
  classes: ClassSummary[];
  items: ItemOutcome[];
  /** Resources tagged with this run still in the isolated account after cleanup. */
  leftovers: string[];
  /** Run-level failures: the plan, the isolated role, a cleanup step that never ran. */
  problems: string[];
  warnings: string[];
  /** The report before this one: its key and the SHA-256 of its JSON bytes; null for the first. */
  previous: { key: string; sha256: string } | null;
  /** Set when the run talked to an emulator: its restore times are not AWS's. */
  measuredOn?: { kind: 'emulator'; endpoint: string };
  /** A yearly rehearsal: the whole system restored at one point in time, and how long it took. */
  rehearsal?: RehearsalOutcome;
}

export interface RehearsalOutcome {
  reason: string;
  /** The whole system: first restore started to last restore finished, against validation.rto.systemMinutes. */
  system?: {
    startedAt: string;
    finishedAt: string;
    minutes: number;
    targetMinutes: number;
    withinTarget: boolean;
  };
}

export const CLASSES: ValidatedClass[] = ['database', 'image', 'content', 'logs'];

/** Where the validation runs keep their records and reports: <reportsPrefix>validation/<runId>/. */
export function validationPrefix(vault: { reportsPrefix: string }): string {
  return `${vault.reportsPrefix}validation/`;
}

/** The yearly rehearsals, beside the monthly runs and chained among themselves: <reportsPrefix>rehearsal/<runId>/. */
export function rehearsalPrefix(vault: { reportsPrefix: string }): string {
  return `${vault.reportsPrefix}rehearsal/`;
}

export const REHEARSAL_REASON = 'yearly rehearsal';

/** A rehearsal's run id: `rehearsal-<yyyymmddHHMM>` (its records and report live under rehearsalPrefix). */
export const isRehearsalRun = (runId: string): boolean => runId.startsWith('rehearsal-');

export interface RtoTargets {
  dataMinutes: number;
  systemMinutes: number;
  logsMinutes: number;
}

/** The RTO a class is measured against: system (image), logs, data (database, content). */
export function rtoMinutesFor(cls: ValidatedClass, rto: RtoTargets): number {
  if (cls === 'image') return rto.systemMinutes;
  if (cls === 'logs') return rto.logsMinutes;
  return rto.dataMinutes;
}

export function minutesBetween(older: string | Date, newer: string | Date): number {
  return Math.round(((new Date(newer).getTime() - new Date(older).getTime()) / 60_000) * 10) / 10;
}

/** An item's status from its checks, restore and cleanup: any failure fails it. */
export function itemStatus(item: Omit<ItemOutcome, 'status'> & { status?: ItemStatus }): ItemStatus {
  if (item.status === 'skip') return 'skip';
  if (item.reason && item.status === 'fail') return 'fail';
  if (item.checks.some((c) => c.status === 'fail')) return 'fail';
  if (item.restore && !item.restore.withinRto) return 'fail';
  if (item.cleanup.status === 'failed') return 'fail';
  if (!item.restore) return 'fail';
  return 'pass';
}

export function firstFailure(item: ItemOutcome): string | undefined {
  if (item.reason) return item.reason;
  const c = item.checks.find((x) => x.status === 'fail');
  if (c) return `${c.name}: ${c.detail}`;
  if (item.restore && !item.restore.withinRto) {
    return `restore took ${minutesBetween(item.restore.startedAt, item.restore.finishedAt)} min, over the RTO of ${item.restore.rtoMinutes} min`;
  }
  if (item.cleanup.status === 'failed') return `cleanup failed: ${item.cleanup.detail ?? ''}`;
  return undefined;
}

export interface ReportInput {
  runId: string;
  time: string;
  generatedAt: string;
  region: string;
  sourceAccount?: string;
  isolatedAccount?: string;
  configured: Record<ValidatedClass, boolean>;
  items: ItemOutcome[];
  leftovers: string[];
  problems: string[];
  previous: { key: string; sha256: string } | null;
  /** The AWS endpoint the run used when it was not AWS (an emulator). */
  emulatorEndpoint?: string;
}

export function buildReport(input: ReportInput): ValidationReport {
  const items = input.items.map((i) => {
    const status = itemStatus(i);
    return {
      ...i,
      status,
      reason: status === 'pass' ? undefined : (i.reason ?? firstFailure({ ...i, status })),
    };
  });
  const warnings: string[] = [];
  const classes: ClassSummary[] = CLASSES.map((cls) => {
    const mine = items.filter((i) => i.class === cls);
    const s: ClassSummary = {
      class: cls,
      configured: input.configured[cls],
      items: mine.length,
      passed: mine.filter((i) => i.status === 'pass').length,
      failed: mine.filter((i) => i.status === 'fail').length,
      skipped: mine.filter((i) => i.status === 'skip').length,
    };
    if (!s.configured) s.note = 'not configured in the policy';
    else if (mine.length === 0 || s.skipped === mine.length)
      s.note = 'nothing to validate: no kura-managed recovery point';
    if (s.configured && s.note) warnings.push(`${cls}: ${s.note}`);
    for (const i of mine)
      if (i.status === 'skip' && i.source !== '-')
        warnings.push(`${cls} ${i.source} not validated: ${i.reason}`);
    return s;
  });
  const failed = items.filter((i) => i.status === 'fail');
  const verdict =
    failed.length === 0 && input.leftovers.length === 0 && input.problems.length === 0 ? 'PASS' : 'FAIL';
  const passed = items.filter((i) => i.status === 'pass').length;
  const reasons = [
    ...input.problems,
    ...failed.map((i) => `${i.class} ${i.source}: ${i.reason}`),
    ...(input.leftovers.length ? [`left behind in the isolated account: ${input.leftovers.join(', ')}`] : []),
  ];
  const summary =
    verdict === 'PASS'
      ? `PASS: ${passed} recovery point(s) restored in the isolated account, checked and cleaned up`
      : `FAIL: ${reasons.join(' | ')}`;
  const data = dataCoverage(items);
  if (data.unchecked.length)
    warnings.push(
      `no data was checked for ${data.unchecked.join(', ')}: only that the restore worked (infrastructure); add validation.sqlProbes for databases`,
    );
  for (const i of items)
    for (const o of i.objectives ?? [])
      if (o.status === 'fail' && o.objective === 'RPO')
        warnings.push(`${i.class} ${i.source}: RPO ${o.detail}`);
  if (input.emulatorEndpoint)
    warnings.push(
      `measured on an emulator (${input.emulatorEndpoint}): restore times are the emulator's, not AWS's, and say nothing about the RTO`,
    );
  return {
    kind: 'kura.validation-report',
    version: 1,
    runId: input.runId,
    time: input.time,
    generatedAt: input.generatedAt,
    sourceAccount: input.sourceAccount,
    isolatedAccount: input.isolatedAccount,
    region: input.region,
    verdict,
    summary,
    classes,
    items,
    leftovers: input.leftovers,
    problems: input.problems,
    warnings,
    previous: input.previous,
    ...(input.emulatorEndpoint ? { measuredOn: { kind: 'emulator', endpoint: input.emulatorEndpoint } } : {}),
  };
}

/**
 * Checks that looked at the data itself, not only at the restored
 * infrastructure: SQL probes (database), SHA-256 of restored objects against
 * the manifest (content), a bundle against its manifest (logs). A machine
 * image has no data check of its own: it is infrastructure.
 */
export function isDataCheck(cls: ValidatedClass, check: string): boolean {
  if (cls === 'database') return check.startsWith('sql:');
  if (cls === 'content') return check === 'sha256';
  if (cls === 'logs') return check === 'bundle vs manifest';
  return false;
}

/** Which restored items had a passing data check, and which were checked only as infrastructure. */
export function dataCoverage(items: Pick<ItemOutcome, 'class' | 'source' | 'checks' | 'status'>[]): {
  checked: string[];
  unchecked: string[];
} {
  const out = { checked: [] as string[], unchecked: [] as string[] };
  for (const i of items) {
    if (i.class === 'image' || i.status === 'skip') continue;
    const ok = i.checks.some((c) => c.status === 'pass' && isDataCheck(i.class, c.name));
    (ok ? out.checked : out.unchecked).push(`${i.class} ${i.source}`);
  }
  return out;
}

/** The verdict as a person must read it: a PASS that checked no data says so. */
export function verdictText(r: Pick<ValidationReport, 'verdict' | 'items'>): string {
  if (r.verdict !== 'PASS') return r.verdict;
  const d = dataCoverage(r.items);
  if (d.unchecked.length === 0) return 'PASS';
  return d.checked.length === 0
    ? 'PASS (infrastructure only: no data checked)'
    : 'PASS (data not checked for some items)';
}

/** The exact bytes stored (and hashed): pretty JSON with a final newline. */
export function serializeReport(report: ValidationReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export function sha256Hex(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export interface ChainEntry {
  key: string;
  body: string;
  /** Why the report failed its seal check (seals.ts), when it did. */
  sealProblem?: string;
}

export interface ChainCheck {
  ok: boolean;
  reports: {
    key: string;
    runId?: string;
    verdict?: string;
    sha256: string;
    linked: boolean;
    problem?: string;
  }[];
  problems: string[];
}

/** Verifies the chain over reports in run order (oldest first). */
export function verifyChain(entries: ChainEntry[]): ChainCheck {
  const problems: string[] = [];
  const reports: ChainCheck['reports'] = [];
  let prev: { key: string; sha256: string } | null = null;
  for (const e of entries) {
    const sha256 = sha256Hex(e.body);
    let parsed: ValidationReport | undefined;
    try {
      parsed = JSON.parse(e.body) as ValidationReport;
    } catch {
      // reported below
    }
    let problem: string | undefined;
    if (parsed?.kind !== 'kura.validation-report') problem = 'not a kura validation report';
    else if (prev === null && parsed.previous !== null) {
      problem = `names a previous report ${parsed.previous.key} that is not in the chain`;
    } else if (
      prev !== null &&
      (parsed.previous?.key !== prev.key || parsed.previous?.sha256 !== prev.sha256)
    ) {
      problem = parsed.previous
        ? `previous is ${parsed.previous.key} ${parsed.previous.sha256.slice(0, 12)}…, expected ${prev.key} ${prev.sha256.slice(0, 12)}… (a report was changed, removed or inserted)`
        : `previous is missing, expected ${prev.key}`;
    }
    if (e.sealProblem) problem = problem ? `${e.sealProblem}; ${problem}` : e.sealProblem;
    if (problem) problems.push(`${e.key}: ${problem}`);
    reports.push({
      key: e.key,
      runId: parsed?.runId,
      verdict: parsed?.verdict,
      sha256,
      linked: !problem,
      problem,
    });
    prev = { key: e.key, sha256 };
  }
  return { ok: problems.length === 0, reports, problems };
}

/** The rehearsal in one sentence: why, and the whole system's restore time against its target. */
export function rehearsalLine(x: RehearsalOutcome): string {
  if (!x.system) return `Rehearsal (${x.reason}): nothing was restored.`;
  return `Rehearsal (${x.reason}): the whole system restored in ${x.system.minutes} min (system RTO ${x.system.targetMinutes} min${x.system.withinTarget ? '' : ': OVER'}), ${x.system.startedAt} to ${x.system.finishedAt}.`;
}

function restoreCell(i: ItemOutcome, r?: Pick<ValidationReport, 'measuredOn'>): string {
  if (!i.restore) return '';
  return `${(i.restore.durationSeconds / 60).toFixed(1)} min / RTO ${i.restore.rtoMinutes} min${i.restore.withinRto ? '' : ' (over)'}${r?.measuredOn ? ' (emulator: not an AWS figure)' : ''}`;
}

export function renderMarkdown(r: ValidationReport, timeZone = 'UTC'): string {
  const lines = [
    `# kura ${r.rehearsal ? 'yearly rehearsal' : 'validation'} ${r.runId}: ${verdictText(r)}`,
    '',
    ...(r.rehearsal ? [rehearsalLine(r.rehearsal), ''] : []),
    `Scheduled ${bothZones(r.time, timeZone)}, generated ${bothZones(r.generatedAt, timeZone)}; region ${r.region}, isolated account ${r.isolatedAccount ?? '-'}.`,
    '',
    r.summary,
    '',
    '| class | source | recovery point | status | restore vs RTO | achieved RPO (min) | checks | cleanup |',
    '|---|---|---|---|---|---|---|---|',
    ...r.items.map(
      (i) =>
        `| ${i.class} | ${i.source} | ${i.recoveryPoint?.id ?? '-'} | ${i.status.toUpperCase()}${i.reason ? `: ${i.reason}` : ''} | ${restoreCell(i, r)} | ${i.achievedRpoMinutes ?? ''} | ${i.checks.map((c) => `${c.name} ${c.status}`).join('; ')} | ${i.cleanup.status} |`,
    ),
    '',
    ...r.classes.map(
      (c) =>
        `- ${c.class}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped${c.note ? ` (${c.note})` : ''}`,
    ),
  ];
  const objectives = r.items.flatMap((i) =>
    (i.objectives ?? []).map(
      (o) =>
        `| ${i.class} | ${i.source} | ${o.objective} | ${o.basis} | ${o.achievedMinutes ?? '-'} | ${o.targetMinutes ?? '-'} | ${o.status.toUpperCase()} |`,
    ),
  );
  if (objectives.length)
    lines.push(
      '',
      '## Recovery objectives',
      '',
      '| class | source | objective | measured as | achieved (min) | target (min) | result |',
      '|---|---|---|---|---|---|---|',
      ...objectives,
    );
  if (r.problems.length) lines.push('', '## Problems', ...r.problems.map((p) => `- ${p}`));
  if (r.leftovers.length) lines.push('', '## Left behind', ...r.leftovers.map((p) => `- ${p}`));
  if (r.warnings.length) lines.push('', '## Warnings', ...r.warnings.map((p) => `- ${p}`));
  lines.push(
    '',
    `Previous report: ${r.previous ? `${r.previous.key} (sha256 ${r.previous.sha256})` : 'none (first in the chain)'}`,
  );
  return `${lines.join('\n')}\n`;
}

export function renderHtml(r: ValidationReport, timeZone = 'UTC'): string {
  const colour = r.verdict === 'PASS' ? '#1a7f37' : '#cf222e';
  const rows = r.items
    .map((i) => {
      const checks = i.checks
        .map(
          (c) => `<li class="${esc(c.status)}"><b>${esc(c.name)}</b> ${esc(c.status)}: ${esc(c.detail)}</li>`,
        )
        .join('');
      return `<tr class="${esc(i.status)}"><td>${esc(i.class)}</td><td>${esc(i.source)}</td><td>${esc(i.recoveryPoint?.id ?? '-')}<br><small>${esc(i.recoveryPoint?.time ?? '')}</small></td><td><b>${esc(i.status.toUpperCase())}</b>${i.reason ? `<br><small>${esc(i.reason)}</small>` : ''}</td><td>${esc(restoreCell(i, r))}</td><td>${esc(i.achievedRpoMinutes ?? '')}</td><td><ul>${checks}</ul></td><td>${esc(i.cleanup.status)}${i.cleanup.detail ? `<br><small>${esc(i.cleanup.detail)}</small>` : ''}</td></tr>`;
    })
    .join('\n');
  const classes = r.classes
    .map(
      (c) =>
        `<li><b>${esc(c.class)}</b>: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped${c.note ? ` — ${esc(c.note)}` : ''}</li>`,
    )
    .join('');
  const objectiveRows = r.items
    .flatMap((i) =>
      (i.objectives ?? []).map(
        (o) =>
          `<tr class="${o.status === 'fail' ? 'fail' : ''}"><td>${esc(i.class)}</td><td>${esc(i.source)}</td><td>${esc(o.objective)}</td><td>${esc(o.basis)}</td><td>${esc(o.achievedMinutes ?? '-')}</td><td>${esc(o.targetMinutes ?? '-')}</td><td><b>${esc(o.status.toUpperCase())}</b></td></tr>`,
      ),
    )
    .join('\n');
  const objectives = objectiveRows
    ? `<h2>Recovery objectives</h2><table><thead><tr><th>class</th><th>source</th><th>objective</th><th>measured as</th><th>achieved (min)</th><th>target (min)</th><th>result</th></tr></thead><tbody>\n${objectiveRows}\n</tbody></table>`
    : '';
  const list = (title: string, xs: string[]) =>
    xs.length ? `<h2>${esc(title)}</h2><ul>${xs.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kura validation ${esc(r.runId)}: ${esc(r.verdict)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1f2328}h1 span{color:${colour}}table{border-collapse:collapse;width:100%}td,th{border:1px solid #d0d7de;padding:6px;vertical-align:top;text-align:left}tr.fail td{background:#ffebe9}tr.skip td{background:#fff8c5}li.fail{color:#cf222e}ul{margin:0;padding-left:1.2em}small,code{color:#57606a}</style></head>
<body>
<h1>kura ${r.rehearsal ? 'yearly rehearsal' : 'monthly validation'} <code>${esc(r.runId)}</code>: <span>${esc(verdictText(r))}</span></h1>
${r.rehearsal ? `<p><b>${esc(rehearsalLine(r.rehearsal))}</b></p>` : ''}
<p>${esc(r.summary)}</p>
<p>Scheduled ${esc(bothZones(r.time, timeZone))} · generated ${esc(bothZones(r.generatedAt, timeZone))} · region ${esc(r.region)} · source account ${esc(r.sourceAccount ?? '-')} · restored into isolated account ${esc(r.isolatedAccount ?? '-')}</p>
<ul>${classes}</ul>
<table><thead><tr><th>class</th><th>source</th><th>recovery point</th><th>result</th><th>restore vs RTO</th><th>achieved RPO (min)</th><th>checks</th><th>cleanup</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${objectives}
${list('Problems', r.problems)}${list('Left behind in the isolated account', r.leftovers)}${list('Warnings', r.warnings)}
<p><small>Hash chain: previous report ${r.previous ? `<code>${esc(r.previous.key)}</code> sha256 <code>${esc(r.previous.sha256)}</code>` : 'none (first in the chain)'}. Verify with <code>kura report validation --verify</code>.</small></p>
</body></html>
`;
}
