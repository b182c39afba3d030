// Domain (reports, inventory): the renderings (rows, Markdown, HTML with the
// coverage chart).
import { bothZones } from '../../../policy/calendar.ts';
import type { PitrStatus } from '../../pitr.ts';
import { COLOURS, esc, fmtNumber, gridChart, legend, list, page, table } from '../html.ts';
import type { InventoryReport } from './build.ts';

function fmtMin(m?: number): string {
  if (m === undefined) return '-';
  if (m < 1) return `${Math.round(m * 60)} s`;
  if (m >= 2880) return `${fmtNumber(m / 1440)} d`;
  if (m >= 120) return `${fmtNumber(m / 60)} h`;
  return `${fmtNumber(m)} min`;
}

/** Rows for the per-class summary, shared by table, Markdown and HTML. */
export function classRows(r: InventoryReport): Record<string, string | number>[] {
  return r.classes.map((c) => ({
    class: c.class,
    sources: c.sources,
    points: c.points,
    gaps: c.gaps,
    newest: c.newest ? `${c.newest.source} ${c.newest.id}` : '-',
    newestValidated: c.newestValidated ? `${c.newestValidated.source} ${c.newestValidated.id}` : 'none',
    achievedRpo:
      c.achievedRpoMinutes !== undefined ? `${fmtMin(c.achievedRpoMinutes)} (${c.worstSource})` : '-',
    pitr: c.pitr?.length ? c.pitr.map((p) => `${p.source}: ${pitrText(p)}`).join('; ') : '',
    lastRto: c.rto
      ? `${fmtMin(c.rto.measuredMinutes)} / ${c.rto.targetMinutes} min${c.rto.within ? '' : ' OVER'} (run ${c.rto.runId})`
      : 'not measured',
  }));
}

/** Window and lag of a database's point-in-time restore, with DRIFT when either falls short. */
export function pitrText(p: PitrStatus): string {
  const window = `window ${p.retentionDays} d${p.windowDays !== undefined ? ` (spans ${fmtNumber(p.windowDays)} d)` : ''} of ${p.targetDays} d`;
  const lag = `lag ${fmtMin(p.lagMinutes)} of ${p.targetMinutes} min`;
  return `${window}, ${lag}${p.drift.length ? ' DRIFT' : ''}`;
}

/** Point-in-time windows that fall short of the policy, one line each: what `--check` fails on. */
export function pitrDrift(r: InventoryReport): string[] {
  return r.series.flatMap((s) => (s.pitr?.drift ?? []).map((d) => `database ${s.source}: ${d}`));
}

export function seriesRows(r: InventoryReport): Record<string, string | number>[] {
  return r.series.map((s) => ({
    class: s.class,
    source: s.source,
    schedule: s.schedule,
    expected: s.expected,
    present: s.present,
    gaps: s.gaps.length ? s.gaps.map(gapText).join('; ') : 'none',
    countedFrom: s.countedFrom
      ? `${bothZones(s.countedFrom.time, r.timezone)} (${s.countedFrom.basis})`
      : '-',
    newest: s.newest?.id ?? '-',
    rpo: fmtMin(s.rpoMinutes),
    pitrWindow: s.pitr
      ? `${s.pitr.retentionDays} d of ${s.pitr.targetDays}${s.pitr.retentionDays < s.pitr.targetDays || s.pitr.retentionDays === 0 ? ' DRIFT' : ''}`
      : '',
    pitrLag: s.pitr
      ? `${fmtMin(s.pitr.lagMinutes)} of ${s.pitr.targetMinutes} min${s.pitr.lagMinutes === undefined || s.pitr.lagMinutes > s.pitr.targetMinutes ? ' DRIFT' : ''}`
      : '',
  }));
}

export const gapText = (g: { from: string; to: string; local: string; missed: number }) =>
  `${g.local} (${g.missed === 1 ? '1 run' : `${g.missed} runs`} missed; ${g.from === g.to ? g.from : `${g.from} .. ${g.to}`})`;

export function pointRows(r: InventoryReport): Record<string, string | number>[] {
  return r.points.map((p) => ({
    class: p.class,
    // With sources: whose it is and where this copy lives (single-account mode: as before).
    ...(r.accounts?.length ? { account: p.account ?? '', location: p.location ?? '' } : {}),
    source: p.source,
    id: p.id,
    time: p.time ? bothZones(p.time, r.timezone) : '-',
    ageHours: Number.isNaN(p.ageHours) ? '-' : p.ageHours,
    region: p.region,
    status: p.status,
    validated: p.validated ?? '',
  }));
}

/** With sources: where each source account and region's recovery points live; [] in single-account mode. */
export function perAccountRows(r: InventoryReport): Record<string, string | number>[] {
  return (r.accounts ?? []).map((a) => ({
    account: a.account,
    region: a.region,
    class: a.class,
    sources: a.sources,
    'backup account': a.backup,
    'DR copies': a.dr,
    'left in source': a.source,
    newest: a.newest ? bothZones(a.newest, r.timezone) : '-',
  }));
}

export function orphanRows(r: InventoryReport): Record<string, string>[] {
  return r.orphans.map((o) => ({
    class: o.class,
    kind: o.kind,
    id: o.id,
    region: o.region,
    time: o.time ? bothZones(o.time, r.timezone) : '',
    reason: o.reason,
  }));
}

function mdTable(rows: Record<string, unknown>[]): string {
  if (!rows.length) return '(none)';
  const cols = Object.keys(rows[0] ?? {});
  const cell = (v: unknown) =>
    String(v ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
  return [
    `| ${cols.join(' | ')} |`,
    `|${cols.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${cols.map((c) => cell(row[c])).join(' | ')} |`),
  ].join('\n');
}

export function inventoryMarkdown(r: InventoryReport): string {
  const gaps = r.series.flatMap((s) => s.gaps.map((g) => `- ${s.class} ${s.source}: ${gapText(g)}`));
  const pitr = pitrDrift(r);
  return [
    `# kura inventory: ${r.bucket}`,
    '',
    `At ${bothZones(r.at, r.timezone)} (generated ${bothZones(r.generatedAt, r.timezone)}); window ${r.windowDays} days, days in ${r.timezone}.`,
    '',
    '## Per class',
    '',
    mdTable(classRows(r)),
    '',
    '## Gaps in the scheduled series',
    '',
    ...(gaps.length ? gaps : ['none: every expected run left a recovery point']),
    '',
    '## Point-in-time windows',
    '',
    ...(pitr.length
      ? pitr.map((p) => `- DRIFT ${p}`)
      : ['every selected database keeps its point-in-time window and lag within the policy']),
    '',
    '## Series',
    '',
    mdTable(seriesRows(r)),
    '',
    ...(r.accounts?.length ? ['## Per source account and region', '', mdTable(perAccountRows(r)), ''] : []),
    '## Recovery points',
    '',
    mdTable(pointRows(r)),
    '',
    '## Orphans (left by interrupted runs)',
    '',
    mdTable(orphanRows(r)),
    '',
    ...(r.notes.length ? ['## Notes', '', ...r.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

export const STATE_COLOURS: Record<string, string> = {
  validated: COLOURS.validated,
  present: COLOURS.present,
  missing: COLOURS.missing,
  pending: COLOURS.warn,
  expired: COLOURS.expired,
  before: '#eaeef2',
  none: COLOURS.none,
};

export function coverageLegend(): string {
  return legend([
    [STATE_COLOURS.validated ?? '', 'point present and validated'],
    [STATE_COLOURS.present ?? '', 'point present'],
    [STATE_COLOURS.missing ?? '', 'missing: a scheduled run left no point (gap)'],
    [STATE_COLOURS.pending ?? '', 'fired within the last hour'],
    [STATE_COLOURS.expired ?? '', 'older than the policy keeps'],
    [STATE_COLOURS.before ?? '', "before the source's first point"],
    [STATE_COLOURS.none ?? '', 'no scheduled run that day'],
  ]);
}

export function inventoryHtml(r: InventoryReport): string {
  const objRows = (rows: Record<string, unknown>[]) => rows.map((x) => Object.values(x));
  const head = (rows: Record<string, unknown>[], fallback: string[]) =>
    rows[0] ? Object.keys(rows[0]) : fallback;
  const cls = classRows(r);
  const ser = seriesRows(r);
  const pts = pointRows(r);
  const orph = orphanRows(r);
  const gaps = r.series.flatMap((s) => s.gaps.map((g) => `${s.class} ${s.source}: ${gapText(g)}`));
  const pitr = pitrDrift(r);
  const chart = gridChart({
    id: 'coverage',
    columns: r.days.map((d) => d.slice(5)),
    rows: r.series.map((s) => ({ label: `${s.class} · ${s.source}`, cells: s.cells })),
    colours: STATE_COLOURS,
    labelEvery: r.days.length > 45 ? 7 : 1,
  });
  const body = [
    `<h2>Backup coverage, last ${esc(r.windowDays)} days (${esc(r.timezone)})</h2>`,
    chart,
    coverageLegend(),
    '<h2>Per class: newest point, achieved RPO, last measured RTO</h2>',
    table(head(cls, []), objRows(cls), (i) => (r.classes[i]?.gaps ? 'bad' : undefined)),
    `<h2>Gaps in the scheduled series (${gaps.length})</h2>`,
    gaps.length
      ? `<ul>${gaps.map((g) => `<li class="gap">${esc(g)}</li>`).join('')}</ul>`
      : '<p>none: every expected run left a recovery point</p>',
    `<h2>Point-in-time windows (${pitr.length} drift)</h2>`,
    pitr.length
      ? `<ul>${pitr.map((p) => `<li class="gap">DRIFT ${esc(p)}</li>`).join('')}</ul>`
      : '<p>every selected database keeps its point-in-time window and lag within the policy</p>',
    '<h2>Series</h2>',
    table(head(ser, []), objRows(ser), (i) =>
      r.series[i]?.gaps.length || r.series[i]?.pitr?.drift.length ? 'bad' : undefined,
    ),
    `<h2>Orphans: what interrupted runs left behind (${orph.length})</h2>`,
    table(head(orph, []), objRows(orph), () => 'warn'),
    `<h2>Recovery points (${pts.length})</h2>`,
    table(head(pts, []), objRows(pts)),
    r.notes.length ? `<h2>Notes</h2>${list(r.notes)}` : '',
  ].join('\n');
  return page(
    `kura inventory: ${r.bucket}`,
    `At ${bothZones(r.at, r.timezone)} · generated ${bothZones(r.generatedAt, r.timezone)} · window ${r.windowDays} days`,
    body,
  );
}
