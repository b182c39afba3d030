// Domain (reports, compliance): the report's renderings: the control table,
// CSV, Markdown and HTML (with the class-by-month matrix).
import { bothZones } from '../../../policy/calendar.ts';
import { badge, COLOURS, esc, gridChart, legend, list, page } from '../html.ts';
import { coverageLegend, STATE_COLOURS } from '../inventory.ts';
import { monthLegend, monthsChart } from '../validation-history.ts';
import {
  type ComplianceReport,
  type Control,
  CONTROL_TITLES,
  type ControlKind,
  type ControlStatus,
} from './model.ts';

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
