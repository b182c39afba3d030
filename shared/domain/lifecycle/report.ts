// Domain: the lifecycle report for auditors: per class, the rules the policy
// generates and, when the vault exists, whether the bucket really carries
// them. Pure: the bucket's rules come in already read (S3 API shape).
import type { Policy } from '../../policy/schema.ts';
import { type LifecycleRule, lifecycleRules } from './index.ts';
import { RETRIEVAL } from './logs.ts';

/** The comparable content of a rule, whichever shape it came in. */
export interface CanonicalRule {
  id: string;
  prefix: string;
  minSizeBytes?: number;
  expirationDays?: number;
  noncurrentDays?: number;
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
    And?: { Prefix?: string; ObjectSizeGreaterThan?: number };
  };
  Expiration?: { Days?: number };
  Transitions?: { Days?: number; StorageClass?: string }[];
  NoncurrentVersionExpiration?: { NoncurrentDays?: number };
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
  vault: 'present' | 'absent' | 'not checked';
  classes: { name: string; policy: string; rules: RuleRow[] }[];
  /** Enabled rules on the bucket that the policy does not generate. */
  extraOnBucket: CanonicalRule[];
  retrieval: Record<string, string>;
  notes: string[];
}

export function fromPolicyRule(r: LifecycleRule): CanonicalRule {
  return {
    id: r.Id,
    prefix: r.Prefix ?? '',
    ...(r.ObjectSizeGreaterThan !== undefined ? { minSizeBytes: Number(r.ObjectSizeGreaterThan) } : {}),
    ...(r.ExpirationInDays !== undefined ? { expirationDays: r.ExpirationInDays } : {}),
    ...(r.NoncurrentVersionExpiration
      ? { noncurrentDays: r.NoncurrentVersionExpiration.NoncurrentDays }
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
  return {
    id: r.ID ?? '',
    prefix: and?.Prefix ?? r.Filter?.Prefix ?? r.Prefix ?? '',
    ...(minSize !== undefined ? { minSizeBytes: Number(minSize) } : {}),
    ...(r.Expiration?.Days !== undefined ? { expirationDays: r.Expiration.Days } : {}),
    ...(r.NoncurrentVersionExpiration?.NoncurrentDays !== undefined
      ? { noncurrentDays: r.NoncurrentVersionExpiration.NoncurrentDays }
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
  ['expirationDays', 'expiration (days)'],
  ['noncurrentDays', 'noncurrent versions (days)'],
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
    vault: bucket === undefined ? 'not checked' : bucket.exists ? 'present' : 'absent',
    classes: [...classes.entries()].map(([name, rules]) => ({
      name,
      policy: policyLine(name, policy),
      rules,
    })),
    extraOnBucket: [...onBucket.values()].filter((r) => !ids.has(r.id)),
    retrieval: RETRIEVAL,
    notes,
  };
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
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

export function lifecycleMarkdown(rep: LifecycleReport): string {
  const md = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `# Vault lifecycle: ${rep.bucket}`,
    '',
    `Generated ${rep.generatedAt}. Vault: ${rep.vault}.`,
    '',
  ];
  for (const c of rep.classes) {
    lines.push(
      `## ${c.name}`,
      '',
      `Policy: ${md(c.policy)}`,
      '',
      `| ${HEAD.join(' | ')} |`,
      `|${HEAD.map(() => '---').join('|')}|`,
    );
    for (const r of c.rules) lines.push(`| ${rowCells(r).map(md).join(' | ')} |`);
    lines.push('');
  }
  if (rep.extraOnBucket.length) {
    lines.push('## On the bucket but not in the policy', '');
    for (const r of rep.extraOnBucket)
      lines.push(`- ${r.id} (${r.prefix || 'whole bucket'}): ${md(JSON.stringify(r))}`);
    lines.push('');
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

export function lifecycleHtml(rep: LifecycleReport): string {
  const parts = [
    '<!doctype html><html><head><meta charset="utf-8">',
    `<title>Vault lifecycle: ${esc(rep.bucket)}</title>`,
    '<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px;vertical-align:top}.match{background:#dfd}.differs,.missing{background:#fdd}</style>',
    `</head><body><h1>Vault lifecycle: ${esc(rep.bucket)}</h1><p>Generated ${esc(rep.generatedAt)}. Vault: ${esc(rep.vault)}.</p>`,
  ];
  for (const c of rep.classes) {
    parts.push(
      `<h2>${esc(c.name)}</h2><p>Policy: ${esc(c.policy)}</p><table><tr>${HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`,
    );
    for (const r of c.rules) {
      parts.push(
        `<tr class="${r.onBucket.replace(' ', '-')}">${rowCells(r)
          .map((v) => `<td>${esc(v)}</td>`)
          .join('')}</tr>`,
      );
    }
    parts.push('</table>');
  }
  if (rep.extraOnBucket.length) {
    parts.push(
      '<h2>On the bucket but not in the policy</h2><ul>',
      ...rep.extraOnBucket.map((r) => `<li>${esc(r.id)}: ${esc(JSON.stringify(r))}</li>`),
      '</ul>',
    );
  }
  parts.push(
    '<h2>Retrieval time per storage class</h2><ul>',
    ...Object.entries(rep.retrieval).map(([k, v]) => `<li>${esc(k)}: ${esc(v)}</li>`),
    '</ul>',
  );
  if (rep.notes.length)
    parts.push('<h2>Notes</h2><ul>', ...rep.notes.map((n) => `<li>${esc(n)}</li>`), '</ul>');
  parts.push('</body></html>');
  return parts.join('\n');
}
