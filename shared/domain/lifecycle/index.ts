// Domain: the vault's S3 lifecycle rules, generated from the policy. Each
// backup class contributes its rules; the deployed template and
// `kura report lifecycle` both read this one list.
import type { Policy } from '../../policy/schema.ts';
import { contentLifecycleRules, vaultLayout } from '../content.ts';
import { BUNDLE_ROOT } from '../logs/keys.ts';
import { SEALS_ROOT } from '../seals.ts';
import { logLifecycleRules } from './logs.ts';

/** A lifecycle rule in CloudFormation's AWS::S3::Bucket LifecycleConfiguration shape. */
export interface LifecycleRule {
  Id: string;
  Status: 'Enabled';
  Prefix?: string;
  Filter?: never;
  ObjectSizeGreaterThan?: number;
  /** Only objects carrying all these tags. */
  TagFilters?: { Key: string; Value: string }[];
  ExpirationInDays?: number;
  NoncurrentVersionExpiration?: { NoncurrentDays: number; NewerNoncurrentVersions?: number };
  Transitions?: { StorageClass: string; TransitionInDays: number }[];
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
  /** Not part of CloudFormation: why the rule exists, for the lifecycle report. */
  Why?: string;
}

type RuleSource = (policy: Policy) => LifecycleRule[];

/** Rule generators, one per backup class. */
const SOURCES: RuleSource[] = [
  () => [
    {
      Id: 'abort-incomplete-multipart-uploads',
      Status: 'Enabled',
      Prefix: '',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      Why: 'a crashed multipart copy must not leave billable parts behind',
    },
  ],
  contentLifecycleRules,
  logLifecycleRules,
];

export function lifecycleRules(policy: Policy): LifecycleRule[] {
  const rules = SOURCES.flatMap((source) => source(policy));
  return [...rules, ...sealRules(policy, rules)];
}

/**
 * The seals of records that lifecycle removes go the same way, on the same
 * days: a seal is written after its record, so it never goes first. Content
 * seals become noncurrent when pruning marks their index removed; log bundle
 * seals expire with their manifests. Seals of records kept for good (reports,
 * restore records) stay with them.
 */
function sealRules(policy: Policy, rules: LifecycleRule[]): LifecycleRule[] {
  const sealed = sealedPrefixes(policy);
  return rules
    .filter((r) => r.Prefix && sealed.includes(r.Prefix))
    .filter((r) => r.ExpirationInDays !== undefined || r.NoncurrentVersionExpiration)
    .map((r) => ({
      Id: `seals-${r.Id}`,
      Status: 'Enabled' as const,
      Prefix: `${SEALS_ROOT}${r.Prefix}`,
      ...(r.ExpirationInDays !== undefined ? { ExpirationInDays: r.ExpirationInDays } : {}),
      ...(r.NoncurrentVersionExpiration
        ? { NoncurrentVersionExpiration: { NoncurrentDays: r.NoncurrentVersionExpiration.NoncurrentDays } }
        : {}),
      Why: `seals of the records under ${r.Prefix} go as those records do (${r.Id})`,
    }));
}

/** Where the sealed records that lifecycle removes live: content generations, log bundles. */
function sealedPrefixes(policy: Policy): string[] {
  return [
    ...policy.content.map((c) => vaultLayout.generationsPrefix(policy, c.name)),
    ...Object.keys(policy.logs?.classes ?? {}).map((c) => `${BUNDLE_ROOT}${c}/`),
  ];
}

/** The rules as CloudFormation wants them (without kura's notes). */
export function cloudFormationRules(policy: Policy): Omit<LifecycleRule, 'Why'>[] {
  return lifecycleRules(policy).map(({ Why: _why, ...rule }) => rule);
}

/** An object as a lifecycle filter sees it. */
export interface FilteredObject {
  key: string;
  size: number;
  tags: Record<string, string>;
}

/** Whether a rule's filter selects an object (S3: prefix, every tag filter, size strictly greater). */
export function appliesTo(rule: LifecycleRule, o: FilteredObject): boolean {
  if (!o.key.startsWith(rule.Prefix ?? '')) return false;
  if (rule.ObjectSizeGreaterThan !== undefined && !(o.size > rule.ObjectSizeGreaterThan)) return false;
  return (rule.TagFilters ?? []).every((t) => o.tags[t.Key] === t.Value);
}
