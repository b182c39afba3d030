// Domain (lifecycle report): the HTML rendering, with the retention and cost charts.
import { bothZones } from '../../policy/calendar.ts';
import { type CostReport, fmtBytes, fmtMoney } from '../reports/cost.ts';
import { badge, COLOURS, esc, legend, list, page, stackedBars, table } from '../reports/html.ts';
import type { LifecycleReport, RuleRow } from './report-model.ts';
import { driftFindings, driftSummary } from './report-build.ts';
import {
  COST_HEAD,
  costCells,
  DRIFT_HEAD,
  driftCells,
  HEAD,
  RETENTION_HEAD,
  retentionCells,
  rowCells,
} from './report-markdown.ts';

const SC_COLOURS: Record<string, string> = {
  STANDARD: COLOURS.STANDARD,
  STANDARD_IA: COLOURS.STANDARD_IA,
  GLACIER_IR: COLOURS.GLACIER_IR,
  GLACIER: COLOURS.GLACIER,
  DEEP_ARCHIVE: COLOURS.DEEP_ARCHIVE,
  RDS_SNAPSHOT: '#e16f24',
  EBS_SNAPSHOT: '#bc4c00',
};

/** Days in each storage class until expiry, one bar per rule that expires (log scale: 3 days to 7 years). */
function retentionChart(rep: LifecycleReport): string {
  const rows = rep.classes.flatMap((c) =>
    c.rules
      .filter((r) => r.expirationDays !== undefined || r.noncurrentDays !== undefined)
      .map((r) => {
        const end = r.expirationDays ?? r.noncurrentDays ?? 0;
        const moves = c.rules
          .filter((x) => x.prefix === r.prefix && x.transitions.length)
          .flatMap((x) => x.transitions)
          .map((t) => {
            const [sc, d] = t.split('@');
            return { sc: sc ?? '', day: Number.parseInt(d ?? '0', 10) };
          })
          .filter((t) => t.day < end)
          .sort((a, b) => a.day - b.day);
        const segments: { key: string; value: number; title: string }[] = [];
        let from = 0;
        let sc = 'STANDARD';
        for (const t of [...moves, { sc: '', day: end }]) {
          if (t.day > from)
            segments.push({
              key: sc,
              value: t.day - from,
              title: `${r.id}: ${sc} from day ${from} to day ${t.day}`,
            });
          from = t.day;
          sc = t.sc;
        }
        const label = `${r.id}${r.expirationDays === undefined ? ' (noncurrent)' : ''}`;
        return { label, segments };
      }),
  );
  return stackedBars({
    id: 'retention',
    rows,
    colours: SC_COLOURS,
    scale: (v) => Math.log10(1 + v),
    unit: 'days',
  });
}

function costChart(c: CostReport): string {
  return stackedBars({
    id: 'cost',
    rows: c.rows.map((r) => ({
      label: r.name,
      segments: Object.entries(r.steady).map(([sc, b]) => ({
        key: sc,
        value: (b / 1024 ** 3) * (c.prices.perGbMonth[sc] ?? 0),
        title: `${r.name}: ${sc} ${fmtBytes(b)} = ${fmtMoney((b / 1024 ** 3) * (c.prices.perGbMonth[sc] ?? 0), c.prices.currency)}/month`,
      })),
    })),
    colours: SC_COLOURS,
    unit: `${c.prices.currency}/month`,
    format: (n) => `${fmtMoney(n, c.prices.currency)}/month`,
  });
}

export function lifecycleHtml(rep: LifecycleReport): string {
  const total = driftFindings(rep).length;
  const parts: string[] = [
    `<p>${badge(total ? `${total} drift(s)` : 'no drift', total ? 'bad' : 'ok')} ${esc(driftSummary(rep))}</p>`,
    ...rep.exposure.map((e) => `<p>${badge('exposure', 'bad')} ${esc(e)}</p>`),
  ];
  if (rep.drift) {
    const bad = rep.drift.filter((d) => !d.ok).length;
    parts.push(
      `<h2>Vault protections ${bad ? badge(`${bad} drift(s)`, 'bad') : badge('as the policy says', 'ok')}</h2>`,
      table(DRIFT_HEAD, rep.drift.map(driftCells), (i) => (rep.drift?.[i]?.ok ? 'good' : 'bad')),
    );
  }
  parts.push(
    '<h2>Object Lock per class</h2>',
    '<p>Every write states its retain-until date: the write time plus these days, in this mode. No lifecycle rule removes a version sooner.</p>',
    table(RETENTION_HEAD, rep.retention.map(retentionCells)),
  );
  // Notes qualify the findings above (e.g. what an emulator cannot hold): shown next to them.
  for (const n of rep.notes) parts.push(`<p class="note">${esc(n)}</p>`);
  if (rep.costs) {
    const c = rep.costs;
    parts.push(
      `<h2>Projected storage cost per class (${esc(c.prices.currency)}/month, steady state)</h2>`,
      `<p class="note"><b>Stated prices, not fetched.</b> ${esc((c.notes[0] ?? '').replace(/^prices are STATED, not fetched: /, ''))}</p>`,
      costChart(c),
      legend(Object.entries(SC_COLOURS).map(([k, v]) => [v, k])),
      table(COST_HEAD, [
        ...c.rows.map((r) => costCells(c, r)),
        [
          'total',
          '',
          fmtMoney(c.totalNow, c.prices.currency),
          '',
          fmtMoney(c.totalSteady, c.prices.currency),
          '',
        ],
      ]),
      list(c.notes.slice(1)),
      table(['storage', `${c.prices.currency} per GB-month`], Object.entries(c.prices.perGbMonth)),
    );
  }
  parts.push(
    '<h2>Retention and storage classes per rule (days, log scale)</h2>',
    retentionChart(rep),
    legend(
      Object.entries(SC_COLOURS)
        .slice(0, 5)
        .map(([k, v]) => [v, k]),
    ),
  );
  for (const c of rep.classes) {
    const state = (r: RuleRow) =>
      r.onBucket === 'match' ? 'good' : r.onBucket === 'not checked' ? undefined : 'bad';
    const off = c.rules.filter((r) => r.onBucket === 'missing' || r.onBucket === 'differs').length;
    parts.push(
      `<h2>${esc(c.name)}${off ? ` ${badge(`${off} drift(s)`, 'bad')}` : ''}</h2><p>Policy: ${esc(c.policy)}</p>`,
      table(HEAD, c.rules.map(rowCells), (i) => {
        const r = c.rules[i];
        return r ? state(r) : undefined;
      }),
    );
  }
  if (rep.extraOnBucket.length)
    parts.push(
      '<h2>On the bucket but not in the policy</h2>',
      list(rep.extraOnBucket.map((r) => `${r.id}: ${JSON.stringify(r)}`)),
    );
  parts.push(
    '<h2>Retrieval time per storage class</h2>',
    list(Object.entries(rep.retrieval).map(([k, v]) => `${k}: ${v}`)),
  );
  return page(
    `Vault lifecycle: ${rep.bucket}`,
    `Generated ${bothZones(rep.generatedAt, rep.timezone ?? 'UTC')} · vault ${rep.vault}`,
    parts.join('\n'),
  );
}
