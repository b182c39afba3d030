// Domain (lifecycle report): the report built from the policy and the bucket's
// rules as read, the single-account exposure, and the drift findings.
import type { Policy } from '../../policy/schema.ts';
import { lifecycleRules } from './index.ts';
import { RETRIEVAL } from './logs.ts';
import { retentionPrefixes } from '../vault-retention.ts';
import {
  type ApiRule,
  classOfRule,
  differences,
  fromApiRule,
  fromPolicyRule,
  type LifecycleReport,
  type RuleRow,
  type RuleStatus,
} from './report-model.ts';

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
