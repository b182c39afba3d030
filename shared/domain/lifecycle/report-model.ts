// Domain (lifecycle report): the report's model, and a rule compared field by
// field in one canonical shape, whether it comes from the policy or from S3.
import type { Policy } from '../../policy/schema.ts';
import type { CostReport } from '../reports/cost.ts';
import type { DriftCheck } from '../reports/vault-drift.ts';
import type { LifecycleRule } from './index.ts';

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
