// Domain: the lifecycle report for auditors: per class, the rules the policy
// generates and, when the vault exists, whether the bucket really carries
// them. Pure: the bucket's rules come in already read (S3 API shape).

import { bothZones } from '../../policy/calendar.ts';
import type { Policy } from '../../policy/schema.ts';
import { type CostReport, fmtBytes, fmtMoney } from '../reports/cost.ts';
import { badge, COLOURS, esc, legend, list, page, stackedBars, table } from '../reports/html.ts';
import type { DriftCheck } from '../reports/vault-drift.ts';
import { type LifecycleRule, lifecycleRules } from './index.ts';
import { RETRIEVAL } from './logs.ts';
import { retentionPrefixes } from '../vault-retention.ts';

/** The comparable content of a rule, whichever shape it came in. */
export interface CanonicalRule {
  id: string;
  prefix: string;
  minSizeBytes?: number;
  /** Tag filters as key=value, sorted. */
  tags?: string[];
  expirationDays?: number;
  noncurrentDays?: number;
  /** NewerNoncurrentVersions: noncurrent versions kept whatever their age. */
  newerNoncurrentVersions?: number;
  transitions: string[];
  abortIncompleteDays?: number;
}

/** A rule as GetBucketLifecycleConfiguration returns it (the subset kura uses). */
export interface ApiRule {
  ID?: string;
  Status?: string;
  Prefix?: string;
  Filter?: {
    Prefix?: string;
    ObjectSizeGreaterThan?: number;
    Tag?: { Key?: string; Value?: string };
    And?: { Prefix?: string; ObjectSizeGreaterThan?: number; Tags?: { Key?: string; Value?: string }[] };
  };
  Expiration?: { Days?: number };
  Transitions?: { Days?: number; StorageClass?: string }[];
  NoncurrentVersionExpiration?: { NoncurrentDays?: number; NewerNoncurrentVersions?: number };
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation?: number };
}

export type RuleStatus = 'match' | 'differs' | 'missing' | 'not checked';

export interface RuleRow extends CanonicalRule {
  why: string;
  onBucket: RuleStatus;
  differences: string[];
}

export interface LifecycleReport {
  bucket: string;
  generatedAt: string;
  /** The policy's zone, for times a person reads. */
  timezone?: string;
  vault: 'present' | 'absent' | 'not checked';
  classes: { name: string; policy: string; rules: RuleRow[] }[];
  /** Enabled rules on the bucket that the policy does not generate. */
  extraOnBucket: CanonicalRule[];
  retrieval: Record<string, string>;
  notes: string[];
  /**
   * What the vault is not protected against, by where it lives (accountExposure):
   * shown first, in every format.
   */
  exposure: string[];
  /** The Object Lock retention every write states, per class (domain/vault-retention.ts). */
  retention: { prefix: string; class: string; mode: string; days: number; why: string }[];
  /** The vault's protections against the policy (absent when the vault was not read). */
  drift?: DriftCheck[];
  /** Volume and projected monthly storage cost per class, at stated prices. */
  costs?: CostReport;
}

export function fromPolicyRule(r: LifecycleRule): CanonicalRule {
  return {
    id: r.Id,
    prefix: r.Prefix ?? '',
    ...(r.ObjectSizeGreaterThan !== undefined ? { minSizeBytes: Number(r.ObjectSizeGreaterThan) } : {}),
    ...(r.TagFilters?.length ? { tags: r.TagFilters.map((t) => `${t.Key}=${t.Value}`).sort() } : {}),
    ...(r.ExpirationInDays !== undefined ? { expirationDays: r.ExpirationInDays } : {}),
    ...(r.NoncurrentVersionExpiration
      ? { noncurrentDays: r.NoncurrentVersionExpiration.NoncurrentDays }
      : {}),
    ...(r.NoncurrentVersionExpiration?.NewerNoncurrentVersions !== undefined
      ? { newerNoncurrentVersions: r.NoncurrentVersionExpiration.NewerNoncurrentVersions }
      : {}),
    transitions: (r.Transitions ?? []).map((t) => `${t.StorageClass}@${t.TransitionInDays}d`),
    ...(r.AbortIncompleteMultipartUpload
      ? { abortIncompleteDays: r.AbortIncompleteMultipartUpload.DaysAfterInitiation }
      : {}),
  };
}

export function fromApiRule(r: ApiRule): CanonicalRule {
  const and = r.Filter?.And;
  const minSize = and?.ObjectSizeGreaterThan ?? r.Filter?.ObjectSizeGreaterThan;
  const tags = and?.Tags ?? (r.Filter?.Tag ? [r.Filter.Tag] : []);
  return {
    id: r.ID ?? '',
    prefix: and?.Prefix ?? r.Filter?.Prefix ?? r.Prefix ?? '',
    ...(minSize !== undefined ? { minSizeBytes: Number(minSize) } : {}),
    ...(tags.length ? { tags: tags.map((t) => `${t.Key}=${t.Value}`).sort() } : {}),
    ...(r.Expiration?.Days !== undefined ? { expirationDays: r.Expiration.Days } : {}),
    ...(r.NoncurrentVersionExpiration?.NoncurrentDays !== undefined
      ? { noncurrentDays: r.NoncurrentVersionExpiration.NoncurrentDays }
      : {}),
    ...(r.NoncurrentVersionExpiration?.NewerNoncurrentVersions !== undefined
      ? { newerNoncurrentVersions: r.NoncurrentVersionExpiration.NewerNoncurrentVersions }
      : {}),
    transitions: (r.Transitions ?? []).map((t) => `${t.StorageClass}@${t.Days}d`),
    ...(r.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined
      ? { abortIncompleteDays: r.AbortIncompleteMultipartUpload.DaysAfterInitiation }
      : {}),
  };
}

const FIELDS: [keyof CanonicalRule, string][] = [
  ['prefix', 'prefix'],
  ['minSizeBytes', 'size filter (bytes)'],
  ['tags', 'tag filter'],
  ['expirationDays', 'expiration (days)'],
  ['noncurrentDays', 'noncurrent versions (days)'],
  ['newerNoncurrentVersions', 'noncurrent versions kept whatever their age'],
  ['transitions', 'transitions'],
  ['abortIncompleteDays', 'abort incomplete uploads (days)'],
];

/** Field by field: what the bucket has vs what the policy generates. */
export function differences(policy: CanonicalRule, bucket: CanonicalRule): string[] {
  const out: string[] = [];
  for (const [f, label] of FIELDS) {
    const p = JSON.stringify(policy[f] ?? null);
    const b = JSON.stringify(bucket[f] ?? null);
    if (p !== b) out.push(`${label}: bucket ${b}, policy ${p}`);
  }
  return out;
}

/** The class a rule belongs to, from its id (logs-<class>-…, content-<name>-…). */
export function classOfRule(id: string, policy: Policy): string {
  for (const c of Object.keys(policy.logs?.classes ?? {}))
    if (id.startsWith(`logs-${c}-`)) return `logs: ${c}`;
  for (const c of policy.content) if (id.startsWith(`content-${c.name}-`)) return `content: ${c.name}`;
  return 'vault (every class)';
}

function policyLine(name: string, policy: Policy): string {
  if (name.startsWith('logs: ')) {
    const c = name.slice(6);
    const l = policy.logs;
    return `logs.classes.${c}.retainDays = ${l?.classes[c]?.retainDays}; keepMonths = ${l?.keepMonths}; transitions ${JSON.stringify(l?.transitions)}`;
  }
  if (name.startsWith('content: ')) {
    const c = policy.content.find((x) => x.name === name.slice(9));
    return `content ${c?.name}: ${c?.generations} generations from ${c?.source}`;
  }
  return `vault ${policy.vault.bucket}: Object Lock ${policy.vault.objectLock.mode} ${policy.vault.objectLock.days} days`;
}

/**
 * The report. `bucketRules` undefined: the vault was not checked (or does not
 * exist, with `vaultExists` false).
 */
export function lifecycleReport(
  policy: Policy,
  now: Date,
  bucket: { exists: boolean; rules?: ApiRule[] } | undefined,
  notes: string[] = [],
): LifecycleReport {
  const onBucket = new Map(
    (bucket?.rules ?? []).filter((r) => r.Status !== 'Disabled').map((r) => [r.ID ?? '', fromApiRule(r)]),
  );
  const classes = new Map<string, RuleRow[]>();
  const generated = lifecycleRules(policy);
  for (const r of generated) {
    const canon = fromPolicyRule(r);
    const there = onBucket.get(r.Id);
    let status: RuleStatus = 'not checked';
    let diffs: string[] = [];
    if (bucket?.exists) {
      if (!there) status = 'missing';
      else {
        diffs = differences(canon, there);
        status = diffs.length ? 'differs' : 'match';
      }
    }
    const name = classOfRule(r.Id, policy);
    classes.set(name, [
      ...(classes.get(name) ?? []),
      { ...canon, why: r.Why ?? '', onBucket: status, differences: diffs },
    ]);
  }
  const ids = new Set(generated.map((r) => r.Id));
  return {
    bucket: policy.vault.bucket,
    generatedAt: now.toISOString(),
    timezone: policy.timezone,
    vault: bucket === undefined ? 'not checked' : bucket.exists ? 'present' : 'absent',
    classes: [...classes.entries()].map(([name, rules]) => ({
      name,
      policy: policyLine(name, policy),
      rules,
    })),
    extraOnBucket: [...onBucket.values()].filter((r) => !ids.has(r.id)),
    retrieval: RETRIEVAL,
    notes,
    exposure: accountExposure(policy),
    retention: retentionPrefixes(policy).map((r) => ({ ...r, mode: policy.vault.objectLock.mode })),
  };
}

/** The finding a single-account vault carries, word for word (docs/reports.md, README). */
export const SINGLE_ACCOUNT_EXPOSURE =
  'vault in the production account: not protected against a compromised production account';

/**
 * Where the vault lives against where production runs. Without `sources`
 * (single-account mode), the vault, its key and every recovery point belong to
 * the production account: its administrator can rewrite the bucket policy and
 * lifecycle, and delete snapshots and images, whatever Object Lock holds.
 */
export function accountExposure(policy: Policy): string[] {
  return policy.sources?.length ? [] : [SINGLE_ACCOUNT_EXPOSURE];
}

const cell = (v: unknown) => (v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v));
const HEAD = [
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
const rowCells = (r: RuleRow) =>
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
export function driftFindings(rep: LifecycleReport): string[] {
  return [
    ...(rep.drift ?? [])
      .filter((d) => !d.ok)
      .map((d) => `${d.check}: expected ${d.expected}, found ${d.actual}`),
    ...rep.classes.flatMap((c) =>
      c.rules
        .filter((r) => r.onBucket === 'missing' || r.onBucket === 'differs')
        .map(
          (r) =>
            `rule ${r.id}: ${r.onBucket === 'missing' ? 'missing on the bucket' : r.differences.join('; ')}`,
        ),
    ),
  ];
}

/** Every drift counted, protections and rules alike: the badge an auditor reads first. */
export function driftSummary(rep: LifecycleReport): string {
  const protections = (rep.drift ?? []).filter((d) => !d.ok).length;
  const rules = driftFindings(rep).length - protections;
  if (protections + rules === 0)
    return 'No drift: the vault carries every protection and rule the policy asks for.';
  return `${protections + rules} drift(s): ${protections} vault protection(s) and ${rules} lifecycle rule(s) differ from the policy.`;
}

const RETENTION_HEAD = ['prefix', 'class', 'mode', 'locked (days)', 'why'];
const retentionCells = (r: LifecycleReport['retention'][number]) => [
  r.prefix,
  r.class,
  r.mode,
  String(r.days),
  r.why,
];
const DRIFT_HEAD = ['check', 'expected (policy)', 'actual (bucket)', 'result', 'from'];
const driftCells = (d: DriftCheck) => [d.check, d.expected, d.actual, d.ok ? 'ok' : 'DRIFT', d.source];
const COST_HEAD = [
  'class',
  'volume now',
  'monthly now',
  'steady-state volume by storage class',
  'monthly steady state',
  'basis',
];
const costCells = (c: CostReport, r: CostReport['rows'][number]) => [
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
