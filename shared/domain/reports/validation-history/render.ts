// Domain (reports, validation history): the renderings (month chart, rows,
// Markdown, HTML with the per-class chart).
import { bothZones } from '../../../policy/calendar.ts';
import type { ValidatedClass } from '../../validation-report.ts';
import { badge, COLOURS, esc, gridChart, legend, list, page, stackedBars, table } from '../html.ts';
import type { MonthCell, ValidationHistory } from './build.ts';

export const MONTH_COLOURS: Record<MonthCell['state'], string> = {
  passed: COLOURS.ok,
  'passed-infra': COLOURS.warn,
  failed: COLOURS.missing,
  missed: COLOURS.missing,
  'not-due': COLOURS.none,
  before: '#eaeef2',
};

export function monthLegend(): string {
  return legend([
    [MONTH_COLOURS.passed, 'passed, data checked'],
    [MONTH_COLOURS['passed-infra'], 'passed, infrastructure only (no data checked)'],
    [MONTH_COLOURS.failed, 'failed or missed'],
    [MONTH_COLOURS.before, 'before kura ran'],
    [MONTH_COLOURS['not-due'], 'not due yet'],
  ]);
}

/** The month-by-month chart: one row, one cell per month. */
export function monthsChart(id: string, months: MonthCell[]): string {
  return gridChart({
    id,
    columns: months.map((m) => m.month),
    rows: [{ label: 'monthly validation', cells: months.map((m) => ({ state: m.state, title: m.title })) }],
    colours: MONTH_COLOURS,
    labelEvery: 1,
  });
}

export function historyRows(h: ValidationHistory): Record<string, string | number>[] {
  return h.runs.map((r) => ({
    run: r.runId,
    scheduled: h.timezone && r.time ? bothZones(r.time, h.timezone) : r.time,
    verdict: r.verdictText,
    dataChecked: r.dataChecked.of ? `${r.dataChecked.items} of ${r.dataChecked.of}` : 'n/a',
    ...(r.system
      ? {
          wholeSystem: `${r.system.minutes} min / system RTO ${r.system.targetMinutes} min${r.system.withinTarget ? '' : ' (OVER)'}`,
        }
      : {}),
    slowestRestore: r.slowestRestore
      ? `${r.slowestRestore.minutes} min / RTO ${r.slowestRestore.rtoMinutes} min${r.emulator ? ' (emulator: not an AWS figure)' : ''}`
      : '',
    passed: r.passed,
    failed: r.failed,
    skipped: r.skipped,
    leftovers: r.leftovers,
    sha256: r.sha256.slice(0, 16),
    chain: r.linked ? 'ok' : `BROKEN: ${r.problem ?? ''}`,
  }));
}

export function monthWord(m: MonthCell): string {
  return {
    passed: 'passed',
    'passed-infra': 'PASSED, INFRASTRUCTURE ONLY',
    failed: 'FAILED',
    missed: 'MISSED',
    'not-due': 'not due yet',
    before: 'before kura ran',
  }[m.state];
}

/** Months whose validation was missed or failed: each a failed control. */
export function missedMonths(h: ValidationHistory): MonthCell[] {
  return (h.months ?? []).filter((m) => m.state === 'missed' || m.state === 'failed');
}

/** The yearly rehearsals' own history (their hash chain), as a section of the validation history. */
function rehearsalsMarkdown(r: ValidationHistory): string[] {
  const rows = historyRows(r);
  const cols = Object.keys(rows[0] ?? { run: '' });
  return [
    `## Yearly rehearsals (${r.runs.length}; hash chain ${r.chainOk ? 'intact' : 'BROKEN'})`,
    '',
    ...(rows.length
      ? [
          `| ${cols.join(' | ')} |`,
          `|${cols.map(() => '---').join('|')}|`,
          ...rows.map((x) => `| ${cols.map((c) => String(x[c] ?? '').replace(/\|/g, '\\|')).join(' | ')} |`),
        ]
      : ['No rehearsal yet.']),
    '',
  ];
}

export function historyMarkdown(h: ValidationHistory, rehearsals?: ValidationHistory): string {
  const rows = historyRows(h);
  const cols = Object.keys(rows[0] ?? { run: '' });
  return [
    '# kura validation history',
    '',
    `Generated ${h.timezone ? bothZones(h.generatedAt, h.timezone) : h.generatedAt}. ${h.runs.length} run(s); hash chain ${h.chainOk ? 'intact' : 'BROKEN'}.`,
    '',
    `| ${cols.join(' | ')} |`,
    `|${cols.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${cols.map((c) => String(r[c] ?? '').replace(/\|/g, '\\|')).join(' | ')} |`),
    '',
    ...(h.months?.length
      ? [
          `## Month by month (${h.timezone})`,
          '',
          '| month | state | runs |',
          '|---|---|---|',
          ...h.months.map((m) => `| ${m.month} | ${monthWord(m)} | ${m.runs.join(', ') || '-'} |`),
          '',
        ]
      : []),
    ...(rehearsals ? rehearsalsMarkdown(rehearsals) : []),
    ...(h.problems.length ? ['## Chain problems', '', ...h.problems.map((p) => `- ${p}`), ''] : []),
  ].join('\n');
}

const CLASS_COLOURS: Record<ValidatedClass, string> = {
  database: '#0969da',
  image: '#8250df',
  content: '#1a7f37',
  logs: '#bf8700',
};

/** One bar per run and class (log scale: minutes span 1 to tens of thousands), coloured by class. */
function perClassChart(
  id: string,
  h: ValidationHistory,
  pick: (v: { rpoMinutes?: number; restoreMinutes?: number }) => number | undefined,
  what: string,
): string {
  const rows = h.runs.flatMap((r) =>
    (Object.keys(CLASS_COLOURS) as ValidatedClass[]).flatMap((cls) => {
      const v = r.perClass[cls] ? pick(r.perClass[cls]) : undefined;
      return v === undefined
        ? []
        : [
            {
              label: `${r.runId} ${cls}`,
              segments: [{ key: cls, value: v, title: `${r.runId} ${cls}: ${what} ${v} min` }],
            },
          ];
    }),
  );
  if (!rows.length) return `<p>No ${esc(what)} measured yet.</p>`;
  return [
    stackedBars({ id, rows, colours: CLASS_COLOURS, scale: (v) => Math.log10(1 + v), unit: 'min' }),
    legend(Object.entries(CLASS_COLOURS).map(([k, c]) => [c, k])),
  ].join('\n');
}

export function historyHtml(h: ValidationHistory, rehearsals?: ValidationHistory): string {
  const rows = historyRows(h);
  const chart = stackedBars({
    id: 'history',
    rows: h.runs.map((r) => ({
      label: `${r.runId} ${r.verdict}`,
      segments: [
        { key: 'pass', value: r.passed, title: `${r.runId}: ${r.passed} passed` },
        { key: 'fail', value: r.failed, title: `${r.runId}: ${r.failed} failed` },
        { key: 'skip', value: r.skipped, title: `${r.runId}: ${r.skipped} skipped` },
      ],
    })),
    colours: { pass: COLOURS.ok, fail: COLOURS.missing, skip: COLOURS.expired },
    unit: 'item(s)',
  });
  const body = [
    `<p>Hash chain: ${h.chainOk ? badge('intact', 'ok') : badge('BROKEN', 'bad')} over ${h.runs.length} report(s). Each report names the SHA-256 of the one before; verify with <code>kura report validation --verify</code>.</p>`,
    ...(h.months?.length
      ? [
          `<h2>Month by month (${esc(h.timezone)}): ${missedMonths(h).length ? badge(`${missedMonths(h).length} month(s) missed or failed`, 'bad') : badge('every month', 'ok')}</h2>`,
          monthsChart('months', h.months),
          monthLegend(),
        ]
      : []),
    '<h2>Achieved RPO per class (minutes, log scale; database: point-in-time recovery)</h2>',
    perClassChart('rpo', h, (v) => v.rpoMinutes, 'achieved RPO'),
    `<h2>Restore time per class (minutes, log scale)${h.runs.some((r) => r.emulator) ? ': emulator runs are not AWS figures' : ''}</h2>`,
    perClassChart('restore-time', h, (v) => v.restoreMinutes, 'restore time'),
    '<h2>Items per run</h2>',
    chart,
    legend([
      [COLOURS.ok, 'passed'],
      [COLOURS.missing, 'failed'],
      [COLOURS.expired, 'skipped'],
    ]),
    '<h2>Runs</h2>',
    table(
      Object.keys(rows[0] ?? { run: '' }),
      rows.map((r) => Object.values(r)),
      (i) => {
        const r = h.runs[i];
        return !r?.linked || r.verdict !== 'PASS' ? 'bad' : undefined;
      },
    ),
    ...(rehearsals
      ? [
          `<h2>Yearly rehearsals: ${rehearsals.runs.length ? (rehearsals.chainOk ? badge('hash chain intact', 'ok') : badge('hash chain BROKEN', 'bad')) : badge('none yet', 'warn')}</h2>`,
          rehearsals.runs.length
            ? table(
                Object.keys(historyRows(rehearsals)[0] ?? { run: '' }),
                historyRows(rehearsals).map((r) => Object.values(r)),
                (i) => {
                  const r = rehearsals.runs[i];
                  return !r?.linked || r.verdict !== 'PASS' ? 'bad' : undefined;
                },
              )
            : '<p>No yearly rehearsal report in the vault yet (schedules.rehearsal).</p>',
          rehearsals.problems.length ? list(rehearsals.problems) : '',
          '<h2>Rehearsals: achieved RPO per class (minutes, log scale)</h2>',
          perClassChart('rehearsal-rpo', rehearsals, (v) => v.rpoMinutes, 'achieved RPO'),
          '<h2>Rehearsals: restore time per class (minutes, log scale)</h2>',
          perClassChart('rehearsal-restore-time', rehearsals, (v) => v.restoreMinutes, 'restore time'),
        ]
      : []),
    h.problems.length ? `<h2>Chain problems</h2>${list(h.problems)}` : '',
    `<p class="meta">Full SHA-256 per report: ${h.runs.map((r) => `<br><code>${esc(r.key)}</code> ${esc(r.sha256)}`).join('')}</p>`,
  ].join('\n');
  return page(
    'kura validation history',
    `Generated ${h.timezone ? bothZones(h.generatedAt, h.timezone) : h.generatedAt}`,
    body,
  );
}
