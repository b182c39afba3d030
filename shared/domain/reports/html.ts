// Domain (reports): the HTML every auditor report shares: one self-contained
// page (inline CSS, inline SVG, no script, no external fetch) so that a report
// saved from the vault opens offline and renders the same years later. Every
// interpolated text goes through `esc`.

export const esc = (s: unknown): string =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Cell states of charts and tables, and their colours (also used by the legends). */
export const COLOURS = {
  ok: '#2da44e',
  validated: '#0969da',
  present: '#2da44e',
  missing: '#cf222e',
  warn: '#bf8700',
  expired: '#d0d7de',
  none: '#f6f8fa',
  STANDARD: '#54aeff',
  STANDARD_IA: '#8c959f',
  GLACIER_IR: '#a475f9',
  GLACIER: '#8250df',
  DEEP_ARCHIVE: '#3e1f79',
} as const;

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1f2328}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}td,th{border:1px solid #d0d7de;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#f6f8fa}tr.bad td{background:#ffebe9}tr.warn td{background:#fff8c5}tr.good td{background:#dafbe1}
.meta{color:#57606a}.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600}
.b-ok{background:${COLOURS.ok}}.b-bad{background:${COLOURS.missing}}.b-warn{background:${COLOURS.warn}}
code,small{color:#57606a}svg{display:block;max-width:100%;height:auto;margin:6px 0}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px;border:1px solid #8c959f}
.note{background:#f6f8fa;border-left:4px solid #8c959f;padding:6px 10px;margin:8px 0}
li.gap{color:${COLOURS.missing};font-weight:600}
table.controls td ul{margin:0;padding-left:1.1em}
@media print{@page{size:A4 landscape;margin:12mm}body{max-width:none;margin:0;padding:0;font-size:11px}
h2{break-after:avoid}tr,svg,.legend{break-inside:avoid}tr.bad td,tr.warn td,tr.good td,.badge,svg rect{-webkit-print-color-adjust:exact;print-color-adjust:exact}}`;

/** The whole page. `body` is trusted HTML built with this module's helpers. */
export function page(title: string, subtitle: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">${esc(subtitle)}</p>
${body}
</body></html>
`;
}

export const badge = (text: string, kind: 'ok' | 'bad' | 'warn') =>
  `<span class="badge b-${kind}">${esc(text)}</span>`;

/** A table of plain-text cells; `rowClass` marks a row good/bad/warn. */
export function table(
  head: string[],
  rows: unknown[][],
  rowClass: (i: number) => string | undefined = () => undefined,
): string {
  if (rows.length === 0) return '<p class="meta">(none)</p>';
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const tr = rows
    .map((r, i) => {
      const cls = rowClass(i);
      return `<tr${cls ? ` class="${esc(cls)}"` : ''}>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

export const list = (xs: string[]) =>
  xs.length ? `<ul>${xs.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '<p class="meta">(none)</p>';

export function legend(items: [string, string][]): string {
  return `<p class="legend">${items.map(([colour, label]) => `<span><i style="background:${esc(colour)}"></i>${esc(label)}</span>`).join('')}</p>`;
}

/** One row of a grid chart: a label and one state per column. */
export interface GridRow {
  label: string;
  cells: { state: string; title: string }[];
}

/**
 * A grid chart (rows × columns, one coloured cell each), e.g. backup coverage:
 * class/source × day. Each cell has a <title> so a browser shows what it means.
 */
export function gridChart(opts: {
  id: string;
  columns: string[];
  rows: GridRow[];
  colours: Record<string, string>;
  /** Show every n-th column label. */
  labelEvery?: number;
  /** Minimum cell width, for columns whose labels are words rather than dates. */
  minCell?: number;
}): string {
  const labelW = Math.min(260, Math.max(80, ...opts.rows.map((r) => r.label.length * 6.6 + 12)));
  const cols = Math.max(1, opts.columns.length);
  const cell = Math.max(
    opts.minCell ?? 8,
    Math.min(Math.max(22, opts.minCell ?? 0), Math.floor((1100 - labelW) / cols)),
  );
  // Room above the cells for the longest column label, written at 45 degrees.
  const top = Math.max(44, Math.ceil(Math.max(0, ...opts.columns.map((c) => c.length)) * 6.6 * 0.72) + 12);
  // Rows keep a readable height for their label however narrow the day columns get.
  const rowH = Math.max(14, cell);
  const longest = Math.max(0, ...opts.columns.map((c) => c.length)) * 6.6 * 0.72;
  const w = labelW + cols * cell + 8 + Math.ceil(longest);
  const h = top + opts.rows.length * (rowH + 2) + 6;
  const every = opts.labelEvery ?? Math.max(1, Math.ceil(36 / cell));
  const parts: string[] = [
    `<svg id="${esc(opts.id)}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="system-ui,sans-serif" font-size="11" role="img">`,
  ];
  opts.columns.forEach((c, i) => {
    if (i % every !== 0) return;
    const x = labelW + i * cell + cell / 2;
    parts.push(
      `<text x="${x}" y="${top - 6}" transform="rotate(-45 ${x} ${top - 6})" fill="#57606a">${esc(c)}</text>`,
    );
  });
  opts.rows.forEach((r, j) => {
    const y = top + j * (rowH + 2);
    parts.push(
      `<text x="${labelW - 8}" y="${y + rowH * 0.72}" text-anchor="end" fill="#1f2328">${esc(r.label)}</text>`,
    );
    r.cells.forEach((c, i) => {
      parts.push(
        `<rect class="cell ${esc(c.state)}" x="${labelW + i * cell}" y="${y}" width="${cell - 1}" height="${rowH}" fill="${esc(opts.colours[c.state] ?? '#fff')}"><title>${esc(c.title)}</title></rect>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** A horizontal stacked bar chart: one bar per row, segments with a colour key and a value. */
export function stackedBars(opts: {
  id: string;
  rows: { label: string; segments: { key: string; value: number; title: string }[] }[];
  colours: Record<string, string>;
  /** How a segment's value maps to a width (e.g. log scale for days that span 1 to 2 557). */
  scale?: (v: number) => number;
  unit: string;
  /** How a bar's total is written at its end (default: the number and the unit). */
  format?: (total: number) => string;
}): string {
  const scale = opts.scale ?? ((v: number) => v);
  const labelW = Math.min(380, Math.max(90, ...opts.rows.map((r) => r.label.length * 6.4 + 14)));
  const barW = 760;
  const rowH = 22;
  const totals = opts.rows.map((r) => scale(r.segments.reduce((a, s) => a + s.value, 0)));
  const max = Math.max(1e-9, ...totals);
  const w = labelW + barW + 120;
  const h = opts.rows.length * (rowH + 6) + 8;
  const parts = [
    `<svg id="${esc(opts.id)}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="system-ui,sans-serif" font-size="11" role="img">`,
  ];
  opts.rows.forEach((r, j) => {
    const y = 4 + j * (rowH + 6);
    parts.push(
      `<text x="${labelW - 8}" y="${y + rowH * 0.68}" text-anchor="end" fill="#1f2328">${esc(r.label)}</text>`,
    );
    let acc = 0;
    let x = labelW;
    for (const s of r.segments) {
      // Widths follow the scaled cumulative value, so a log scale stays monotonic.
      const next = labelW + (scale(acc + s.value) / max) * barW;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(0.5, next - x).toFixed(1)}" height="${rowH}" fill="${esc(opts.colours[s.key] ?? '#8c959f')}"><title>${esc(s.title)}</title></rect>`,
      );
      acc += s.value;
      x = next;
    }
    parts.push(
      `<text x="${(x + 6).toFixed(1)}" y="${y + rowH * 0.68}" fill="#57606a">${esc(opts.format ? opts.format(acc) : `${fmtNumber(acc)} ${opts.unit}`)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function fmtNumber(n: number): string {
  if (n === 0) return '0';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 1) return n.toFixed(2).replace(/\.?0+$/, '');
  return n.toPrecision(2);
}
