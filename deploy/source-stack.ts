// Deployment: the parameters of deploy/source-account.yml for one source
// account, from the policy (what that account owns, the vault prefixes it may
// add to). Used by `kura policy source-stack` (what an operator deploys) and
// by the IAM front layer (what the tests evaluate): the same values in both.
import { vaultLayout } from '../shared/domain/content.ts';
import { LOOSE_ROOT } from '../shared/domain/logs/keys.ts';
import type { Policy } from '../shared/policy/schema.ts';
import { owningAccount, sourceAccounts } from '../shared/policy/sources.ts';

/**
 * kura's functions that act in source accounts, each with its role's name
 * (kura-<stage>-<role>, fixed for the source role's trust):
 * rds-snapshot and ami-backup take and share recovery points there;
 * content-backup and log-archive read the content sources and the log landing
 * and copy them into the vault as the source role; validation-step and restore
 * read a source database's LatestRestorableTime (the PITR RPO of the monthly
 * validation and of the yearly rehearsal).
 */
export const SOURCE_USER_ROLES = {
  'rds-snapshot': 'rds-snapshot',
  'ami-backup': 'ami-backup',
  'content-backup': 'content-backup',
  'log-archive': 'log-archive',
  'validation-step': 'validation',
  restore: 'restore',
} as const;

/** The functions (by their contract names) whose roles a kura-source role trusts. */
export const SOURCE_USERS = Object.keys(SOURCE_USER_ROLES) as (keyof typeof SOURCE_USER_ROLES)[];

export function functionRoleArn(backupAccountId: string, role: string, stage = 'prod'): string {
  return `arn:aws:iam::${backupAccountId}:role/kura-${stage}-${role}`;
}

/**
 * The vault prefixes a source account's kura-source role may add objects
 * under: content/<name>/objects/ of each content source it owns, logs/ when it
 * owns the log landing (the loose copies; bundles, manifests, indexes, seals
 * and reports stay kura's own to write). [] when it owns neither.
 */
export function sourceVaultPrefixes(policy: Policy, accountId: string): string[] {
  const content = policy.content.filter((c) => owningAccount(policy, c)?.accountId === accountId);
  const landing = policy.logs && owningAccount(policy, policy.logs)?.accountId === accountId;
  return [...content.map((c) => vaultLayout.objectsPrefix(c.name)), ...(landing ? [LOOSE_ROOT] : [])];
}

export function sourceStackParameters(
  policy: Policy,
  accountId: string,
  backupAccountId: string,
  stage = 'prod',
): Record<string, string> {
  const source = sourceAccounts(policy).find((s) => s.accountId === accountId);
  if (!source)
    throw new Error(
      `account ${accountId} is not a source of this policy; expected one of ${
        sourceAccounts(policy)
          .map((s) => s.accountId)
          .join(', ') || '(no sources: single-account mode)'
      }`,
    );
  const s3 = (url: string) => {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(url);
    return { bucket: m?.[1] ?? '', prefix: m?.[2] ?? '' };
  };
  const vault = `arn:aws:s3:::${policy.vault.bucket}`;
  const content = policy.content.filter((c) => owningAccount(policy, c)?.accountId === accountId);
  const landing =
    policy.logs && owningAccount(policy, policy.logs)?.accountId === accountId
      ? s3(policy.logs.landing)
      : undefined;
  const list = (xs: string[], none: string) =>
    ([...new Set(xs)].length ? [...new Set(xs)] : [none]).join(',');
  const out: Record<string, string> = {
    BackupAccountId: backupAccountId,
    ExternalId: source.externalId,
    SourceRoleName: source.roleArn.split('/').pop() ?? 'kura-source',
    TrustedRoleArns: SOURCE_USERS.map((fn) =>
      functionRoleArn(backupAccountId, SOURCE_USER_ROLES[fn], stage),
    ).join(','),
    SelectorTagValue: policy.selector.tagValue,
    ContentBucketArns: list(
      content.map((c) => `arn:aws:s3:::${s3(c.source).bucket}`),
      'arn:aws:s3:::kura-no-content-source',
    ),
    ContentPrefixes: list(
      content.map((c) => `${s3(c.source).prefix}*`),
      'kura-no-content-source/*',
    ),
    ContentObjectArns: list(
      content.map((c) => `arn:aws:s3:::${s3(c.source).bucket}/${s3(c.source).prefix}*`),
      'arn:aws:s3:::kura-no-content-source/*',
    ),
    VaultObjectArns: list(
      sourceVaultPrefixes(policy, accountId).map((p) => `${vault}/${p}*`),
      `${vault}/kura-nothing-of-${accountId}/*`,
    ),
    // The vault key's own policy (backup account) names who may use it; the
    // identity side names the backup account's keys, as the key id is known only after its deploy.
    VaultKeyArn: `arn:aws:kms:${policy.region}:${backupAccountId}:key/*`,
    ObjectLockMode: policy.vault.objectLock.mode,
  };
  if (landing) {
    out.LandingBucketArn = `arn:aws:s3:::${landing.bucket}`;
    out.LandingObjectsArn = `arn:aws:s3:::${landing.bucket}/${landing.prefix}*`;
    out.LandingPrefix = `${landing.prefix}*`;
  }
  return out;
}
