// Domain (lifecycle report): the Markdown rendering (rules, retention, drift, costs).
import { bothZones } from '../../policy/calendar.ts';
import { type CostReport, fmtBytes, fmtMoney } from '../reports/cost.ts';
import type { DriftCheck } from '../reports/vault-drift.ts';
import type { LifecycleReport, RuleRow } from './report-model.ts';
import { driftSummary } from './report-build.ts';

const cell = (v: unknown) => (v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v));
export const HEAD = [
  'rule',
  'prefix',
  'size filter >',
  'transitions',
  'expire (days)',
  'noncurrent (days)',
  'on bucket',
  'differences',
  'why',
];
export const rowCells = (r: RuleRow) =>
  [
    r.id,
    r.prefix,
    r.minSizeBytes,
    r.transitions,
    r.expirationDays ?? (r.abortIncompleteDays !== undefined ? `abort uploads ${r.abortIncompleteDays}` : ''),
    r.noncurrentDays,
    r.onBucket,
    r.differences.join('; '),
    r.why,
  ].map(cell);

/** Drifted protections and rules, one line each: what `--check` fails on. */
export const RETENTION_HEAD = ['prefix', 'class', 'mode', 'locked (days)', 'why'];
export const retentionCells = (r: LifecycleReport['retention'][number]) => [
  r.prefix,
  r.class,
  r.mode,
  String(r.days),
  r.why,
];
export const DRIFT_HEAD = ['check', 'expected (policy)', 'actual (bucket)', 'result', 'from'];
export const driftCells = (d: DriftCheck) => [d.check, d.expected, d.actual, d.ok ? 'ok' : 'DRIFT', d.source];
export const COST_HEAD = [
  'class',
  'volume now',
  'monthly now',
  'steady-state volume by storage class',
  'monthly steady state',
  'basis',
];
export const costCells = (c: CostReport, r: CostReport['rows'][number]) => [
  r.name,
  fmtBytes(r.bytesNow),
  fmtMoney(r.monthlyNow, c.prices.currency),
  Object.entries(r.steady)
    .map(([k, b]) => `${k} ${fmtBytes(b)}`)
    .join(', '),
  fmtMoney(r.monthlySteady, c.prices.currency),
  r.basis,
];

export function lifecycleMarkdown(rep: LifecycleReport): string {
  const md = (s: string) => s.replace(/\|/g, '\\|');
  const mdRow = (cells: string[]) => `| ${cells.map(md).join(' | ')} |`;
  const lines = [
    `# Vault lifecycle: ${rep.bucket}`,
    '',
    `Generated ${bothZones(rep.generatedAt, rep.timezone ?? 'UTC')}. Vault: ${rep.vault}.`,
    '',
    `**${driftSummary(rep)}**`,
    '',
    ...rep.exposure.flatMap((e) => [`**Exposure: ${e}.**`, '']),
  ];
  if (rep.drift) {
    const bad = rep.drift.filter((d) => !d.ok).length;
    lines.push(
      `## Vault protections: ${bad ? `${bad} drift(s)` : 'as the policy says'}`,
      '',
      mdRow(DRIFT_HEAD),
      `|${DRIFT_HEAD.map(() => '---').join('|')}|`,
      ...rep.drift.map((d) => mdRow(driftCells(d))),
      '',
    );
  }
  lines.push(
    '## Object Lock per class',
    '',
    'Every write states its retain-until date: the write time plus these days, in this mode. No lifecycle rule removes a version sooner.',
    '',
    mdRow(RETENTION_HEAD),
    `|${RETENTION_HEAD.map(() => '---').join('|')}|`,
    ...rep.retention.map((r) => mdRow(retentionCells(r))),
    '',
  );
  for (const c of rep.classes) {
    lines.push(
      `## ${c.name}`,
      '',
      `Policy: ${md(c.policy)}`,
      '',
      `| ${HEAD.join(' | ')} |`,
      `|${HEAD.map(() => '---').join('|')}|`,
    );
    for (const r of c.rules) lines.push(mdRow(rowCells(r)));
    lines.push('');
  }
  if (rep.extraOnBucket.length) {
    lines.push('## On the bucket but not in the policy', '');
    for (const r of rep.extraOnBucket)
      lines.push(`- ${r.id} (${r.prefix || 'whole bucket'}): ${md(JSON.stringify(r))}`);
    lines.push('');
  }
  if (rep.costs) {
    const c = rep.costs;
    lines.push(
      `## Projected storage cost per class (${c.prices.currency}/month, STATED prices)`,
      '',
      mdRow(COST_HEAD),
      `|${COST_HEAD.map(() => '---').join('|')}|`,
      ...c.rows.map((r) => mdRow(costCells(c, r))),
      `| total | | ${fmtMoney(c.totalNow, c.prices.currency)} | | ${fmtMoney(c.totalSteady, c.prices.currency)} | |`,
      '',
      ...c.notes.map((n) => `- ${md(n)}`),
      '',
      `Prices (${c.prices.currency} per GB-month, ${c.prices.region}): ${Object.entries(c.prices.perGbMonth)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      '',
    );
  }
  lines.push(
    '## Retrieval time per storage class',
    '',
    ...Object.entries(rep.retrieval).map(([k, v]) => `- ${k}: ${v}`),
    '',
  );
  if (rep.notes.length) lines.push('## Notes', '', ...rep.notes.map((n) => `- ${md(n)}`), '');
  return lines.join('\n');
}
