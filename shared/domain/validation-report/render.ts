// Domain (validation report): the renderings for people (Markdown, HTML).
import { bothZones } from '../../policy/calendar.ts';
import { esc } from '../reports/html.ts';
import type { ItemOutcome, RehearsalOutcome, ValidationReport } from './model.ts';
import { verdictText } from './build.ts';

export function rehearsalLine(x: RehearsalOutcome): string {
  if (!x.system) return `Rehearsal (${x.reason}): nothing was restored.`;
  return `Rehearsal (${x.reason}): the whole system restored in ${x.system.minutes} min (system RTO ${x.system.targetMinutes} min${x.system.withinTarget ? '' : ': OVER'}), ${x.system.startedAt} to ${x.system.finishedAt}.`;
}

/** With sources, the tables name each item's source account and region (single-account: no such columns). */
const withAccounts = (r: Pick<ValidationReport, 'items'>) => r.items.some((i) => i.account);
const originCells = (i: ItemOutcome) => [i.account ?? '-', i.sourceRegion ?? '-'];

/** One line per source account: where its items came from and how they fared. */
export function accountLines(r: Pick<ValidationReport, 'accounts'>): string[] {
  return (r.accounts ?? []).map(
    (a) =>
      `account ${a.account}${a.regions.length ? ` (${a.regions.join(', ')})` : ''}: ${a.items} item(s), ${a.passed} passed, ${a.failed} failed, ${a.skipped} skipped`,
  );
}

function restoreCell(i: ItemOutcome, r?: Pick<ValidationReport, 'measuredOn'>): string {
  if (!i.restore) return '';
  return `${(i.restore.durationSeconds / 60).toFixed(1)} min / RTO ${i.restore.rtoMinutes} min${i.restore.withinRto ? '' : ' (over)'}${r?.measuredOn ? ' (emulator: not an AWS figure)' : ''}`;
}

export function renderMarkdown(r: ValidationReport, timeZone = 'UTC'): string {
  const accounts = withAccounts(r);
  const lines = [
    `# kura ${r.rehearsal ? 'yearly rehearsal' : 'validation'} ${r.runId}: ${verdictText(r)}`,
    '',
    ...(r.rehearsal ? [rehearsalLine(r.rehearsal), ''] : []),
    `Scheduled ${bothZones(r.time, timeZone)}, generated ${bothZones(r.generatedAt, timeZone)}; region ${r.region}, isolated account ${r.isolatedAccount ?? '-'}.`,
    '',
    r.summary,
    '',
    `| class | source |${accounts ? ' account | source region |' : ''} recovery point | status | restore vs RTO | achieved RPO (min) | checks | cleanup |`,
    `|---|---|${accounts ? '---|---|' : ''}---|---|---|---|---|---|`,
    ...r.items.map(
      (i) =>
        `| ${i.class} | ${i.source} |${accounts ? ` ${originCells(i).join(' | ')} |` : ''} ${i.recoveryPoint?.id ?? '-'} | ${i.status.toUpperCase()}${i.reason ? `: ${i.reason}` : ''} | ${restoreCell(i, r)} | ${i.achievedRpoMinutes ?? ''} | ${i.checks.map((c) => `${c.name} ${c.status}`).join('; ')} | ${i.cleanup.status} |`,
    ),
    '',
    ...r.classes.map(
      (c) =>
        `- ${c.class}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped${c.note ? ` (${c.note})` : ''}`,
    ),
    ...(r.accounts?.length ? ['', '## Per source account', '', ...accountLines(r).map((l) => `- ${l}`)] : []),
  ];
  const objectives = r.items.flatMap((i) =>
    (i.objectives ?? []).map(
      (o) =>
        `| ${i.class} | ${i.source} |${accounts ? ` ${originCells(i).join(' | ')} |` : ''} ${o.objective} | ${o.basis} | ${o.achievedMinutes ?? '-'} | ${o.targetMinutes ?? '-'} | ${o.status.toUpperCase()} |`,
    ),
  );
  if (objectives.length)
    lines.push(
      '',
      '## Recovery objectives',
      '',
      `| class | source |${accounts ? ' account | source region |' : ''} objective | measured as | achieved (min) | target (min) | result |`,
      `|---|---|${accounts ? '---|---|' : ''}---|---|---|---|---|`,
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
  const accounts = withAccounts(r);
  const originTds = (i: ItemOutcome) =>
    accounts
      ? originCells(i)
          .map((c) => `<td>${esc(c)}</td>`)
          .join('')
      : '';
  const originThs = accounts ? '<th>account</th><th>source region</th>' : '';
  const colour = r.verdict === 'PASS' ? '#1a7f37' : '#cf222e';
  const rows = r.items
    .map((i) => {
      const checks = i.checks
        .map(
          (c) => `<li class="${esc(c.status)}"><b>${esc(c.name)}</b> ${esc(c.status)}: ${esc(c.detail)}</li>`,
        )
        .join('');
      return `<tr class="${esc(i.status)}"><td>${esc(i.class)}</td><td>${esc(i.source)}</td>${originTds(i)}<td>${esc(i.recoveryPoint?.id ?? '-')}<br><small>${esc(i.recoveryPoint?.time ?? '')}</small></td><td><b>${esc(i.status.toUpperCase())}</b>${i.reason ? `<br><small>${esc(i.reason)}</small>` : ''}</td><td>${esc(restoreCell(i, r))}</td><td>${esc(i.achievedRpoMinutes ?? '')}</td><td><ul>${checks}</ul></td><td>${esc(i.cleanup.status)}${i.cleanup.detail ? `<br><small>${esc(i.cleanup.detail)}</small>` : ''}</td></tr>`;
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
          `<tr class="${o.status === 'fail' ? 'fail' : ''}"><td>${esc(i.class)}</td><td>${esc(i.source)}</td>${originTds(i)}<td>${esc(o.objective)}</td><td>${esc(o.basis)}</td><td>${esc(o.achievedMinutes ?? '-')}</td><td>${esc(o.targetMinutes ?? '-')}</td><td><b>${esc(o.status.toUpperCase())}</b></td></tr>`,
      ),
    )
    .join('\n');
  const objectives = objectiveRows
    ? `<h2>Recovery objectives</h2><table><thead><tr><th>class</th><th>source</th>${originThs}<th>objective</th><th>measured as</th><th>achieved (min)</th><th>target (min)</th><th>result</th></tr></thead><tbody>\n${objectiveRows}\n</tbody></table>`
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
<p>Scheduled ${esc(bothZones(r.time, timeZone))} · generated ${esc(bothZones(r.generatedAt, timeZone))} · region ${esc(r.region)} · ${r.accounts?.length ? 'backup account' : 'source account'} ${esc(r.sourceAccount ?? '-')} · restored into isolated account ${esc(r.isolatedAccount ?? '-')}</p>
<ul>${classes}</ul>
${
  r.accounts?.length
    ? `<h2>Per source account</h2><ul>${accountLines(r)
        .map((l) => `<li>${esc(l)}</li>`)
        .join('')}</ul>`
    : ''
}
<table><thead><tr><th>class</th><th>source</th>${originThs}<th>recovery point</th><th>result</th><th>restore vs RTO</th><th>achieved RPO (min)</th><th>checks</th><th>cleanup</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${objectives}
${list('Problems', r.problems)}${list('Left behind in the isolated account', r.leftovers)}${list('Warnings', r.warnings)}
<p><small>Hash chain: previous report ${r.previous ? `<code>${esc(r.previous.key)}</code> sha256 <code>${esc(r.previous.sha256)}</code>` : 'none (first in the chain)'}. Verify with <code>kura report validation --verify</code>.</small></p>
</body></html>
`;
}
