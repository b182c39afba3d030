// Domain (reports): the history of monthly validation runs, one row per report
// with its verdict, counts, SHA-256 and whether it links to the report before
// it (the hash chain of validation-report.ts). Pure.
import { type ChainEntry, type ValidationReport, verifyChain } from '../validation-report.ts';
import { COLOURS, badge, esc, legend, list, page, stackedBars, table } from './html.ts';

export interface HistoryRow {
  runId: string;
  time: string;
  verdict: string;
  passed: number;
  failed: number;
  skipped: number;
  leftovers: number;
  sha256: string;
  linked: boolean;
  problem?: string;
  key: string;
}

export interface ValidationHistory {
  kind: 'kura.validation-history';
  generatedAt: string;
  chainOk: boolean;
  problems: string[];
  runs: HistoryRow[];
}

export function validationHistory(entries: ChainEntry[], now: Date): ValidationHistory {
  const chain = verifyChain(entries);
  const runs = entries.map((e, i): HistoryRow => {
    const c = chain.reports[i];
    let r: Partial<ValidationReport> = {};
    try {
      r = JSON.parse(e.body) as ValidationReport;
    } catch {
      // the chain check already names it
    }
    const items = r.items ?? [];
    return {
      runId: r.runId ?? '?',
      time: r.time ?? '',
      verdict: r.verdict ?? 'unreadable',
      passed: items.filter((x) => x.status === 'pass').length,
      failed: items.filter((x) => x.status === 'fail').length,
      skipped: items.filter((x) => x.status === 'skip').length,
      leftovers: r.leftovers?.length ?? 0,
      sha256: c?.sha256 ?? '',
      linked: c?.linked ?? false,
      problem: c?.problem,
      key: e.key,
    };
  });
  return {
    kind: 'kura.validation-history',
    generatedAt: now.toISOString(),
    chainOk: chain.ok,
    problems: chain.problems,
    runs,
  };
}

export function historyRows(h: ValidationHistory): Record<string, string | number>[] {
  return h.runs.map((r) => ({
    run: r.runId,
    scheduled: r.time,
    verdict: r.verdict,
    passed: r.passed,
    failed: r.failed,
    skipped: r.skipped,
    leftovers: r.leftovers,
    sha256: r.sha256.slice(0, 16),
    chain: r.linked ? 'ok' : `BROKEN: ${r.problem ?? ''}`,
  }));
}

export function historyMarkdown(h: ValidationHistory): string {
  const rows = historyRows(h);
  const cols = Object.keys(rows[0] ?? { run: '' });
  return [
    '# kura validation history',
    '',
    `Generated ${h.generatedAt}. ${h.runs.length} run(s); hash chain ${h.chainOk ? 'intact' : 'BROKEN'}.`,
    '',
    `| ${cols.join(' | ')} |`,
    `|${cols.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${cols.map((c) => String(r[c] ?? '').replace(/\|/g, '\\|')).join(' | ')} |`),
    '',
    ...(h.problems.length ? ['## Chain problems', '', ...h.problems.map((p) => `- ${p}`), ''] : []),
  ].join('\n');
}

export function historyHtml(h: ValidationHistory): string {
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
    h.problems.length ? `<h2>Chain problems</h2>${list(h.problems)}` : '',
    `<p class="meta">Full SHA-256 per report: ${h.runs.map((r) => `<br><code>${esc(r.key)}</code> ${esc(r.sha256)}`).join('')}</p>`,
  ].join('\n');
  return page('kura validation history', `Generated ${h.generatedAt}`, body);
}
