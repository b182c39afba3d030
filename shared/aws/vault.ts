// AWS adapter: the vault bucket. `ensureVault` creates it when missing with the
// same protections deploy/template.ts declares (vaultResources): versioning,
// Object Lock with the policy's default retention, SSE-KMS with the key behind
// the policy's alias (bucket key on), public access blocked, bucket-owner
// ownership, a TLS-only bucket policy, and the lifecycle rules from the policy.
// Used by local runs, the demo and the tests; on AWS the stack owns the vault
// and this only checks and re-applies the idempotent settings.
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  KMSClient,
  NotFoundException,
} from '@aws-sdk/client-kms';
import {
  BucketAlreadyOwnedByYou,
  type BucketLocationConstraint,
  CreateBucketCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  type LifecycleRule as S3LifecycleRule,
} from '@aws-sdk/client-s3';
import { type LifecycleRule, lifecycleRules } from '../domain/lifecycle/index.ts';
import { TAG } from '../domain/tags.ts';
import type { Policy } from '../policy/schema.ts';
import { PrerequisiteError } from '../runtime/errors.ts';
import type { Clients } from './clients.ts';

export interface Vault {
  bucket: string;
  kmsKeyArn: string;
  manifestsPrefix: string;
  /** True when this call created the bucket. */
  created: boolean;
  /** Whether the TLS-only bucket policy is in place (not over a plain-http emulator endpoint). */
  tlsOnly: boolean;
}

export interface EnsureVaultOptions {
  /**
   * Create the KMS key and alias when the alias does not exist. Default: only
   * against a local endpoint (AWS_ENDPOINT_URL); on AWS the stack owns the key.
   */
  createKey?: boolean;
}

/** The TLS-only bucket policy, the same statement as VaultBucketPolicy in deploy/template.ts. */
export function tlsOnlyPolicy(bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  });
}

/** A policy lifecycle rule (CloudFormation shape) in the S3 API's shape. */
export function toS3LifecycleRule(rule: LifecycleRule): S3LifecycleRule {
  const out: S3LifecycleRule = {
    ID: rule.Id,
    Status: rule.Status,
    Filter:
      rule.ObjectSizeGreaterThan !== undefined
        ? { And: { Prefix: rule.Prefix ?? '', ObjectSizeGreaterThan: rule.ObjectSizeGreaterThan } }
        : { Prefix: rule.Prefix ?? '' },
  };
  if (rule.ExpirationInDays !== undefined) out.Expiration = { Days: rule.ExpirationInDays };
  if (rule.NoncurrentVersionExpiration) {
    out.NoncurrentVersionExpiration = {
      NoncurrentDays: rule.NoncurrentVersionExpiration.NoncurrentDays,
      ...(rule.NoncurrentVersionExpiration.NewerNoncurrentVersions !== undefined
        ? { NewerNoncurrentVersions: rule.NoncurrentVersionExpiration.NewerNoncurrentVersions }
        : {}),
    };
  }
  if (rule.Transitions?.length) {
    out.Transitions = rule.Transitions.map((t) => ({
      Days: t.TransitionInDays,
      StorageClass: t.StorageClass as never,
    }));
  }
  if (rule.AbortIncompleteMultipartUpload)
    out.AbortIncompleteMultipartUpload = rule.AbortIncompleteMultipartUpload;
  return out;
}

async function ensureKey(clients: Clients, alias: string, create: boolean): Promise<string> {
  const kms = clients.get(KMSClient);
  try {
    const d = await kms.send(new DescribeKeyCommand({ KeyId: alias }));
    if (d.KeyMetadata?.Arn) return d.KeyMetadata.Arn;
  } catch (e) {
    if (!(e instanceof NotFoundException) && (e as Error).name !== 'NotFoundException') throw e;
  }
  if (!create) {
    throw new PrerequisiteError(
      `the vault key ${alias} does not exist; deploy the kura stack (it declares VaultKey and ${alias}) or run against a local emulator`,
    );
  }
  const key = await kms.send(
    new CreateKeyCommand({
      Description: 'kura vault key (customer managed: cross-account restores need a key policy and grants)',
      Tags: [{ TagKey: TAG.managed, TagValue: 'true' }],
    }),
  );
  const arn = key.KeyMetadata?.Arn;
  if (!arn || !key.KeyMetadata?.KeyId) throw new Error('KMS CreateKey returned no key');
  try {
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyMetadata.KeyId }));
  } catch (e) {
    // Another process created the alias first: use the key it points to.
    if ((e as Error).name !== 'AlreadyExistsException') throw e;
    const d = await kms.send(new DescribeKeyCommand({ KeyId: alias }));
    return d.KeyMetadata?.Arn ?? arn;
  }
  return arn;
}

async function bucketExists(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (e as Error).name === 'NotFound' || (e as Error).name === 'NoSuchBucket')
      return false;
    throw e;
  }
}

/**
 * Make sure the policy's vault exists with every protection. Idempotent; safe to
 * call from several processes. An existing bucket without Object Lock is an
 * error (kura never writes backups to an unlocked vault).
 */
/** All four public-access blocks on: backups and restored data are never public. */
export async function blockPublicAccess(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    }),
  );
}

export async function ensureVault(
  clients: Clients,
  policy: Policy,
  opts: EnsureVaultOptions = {},
): Promise<Vault> {
  const bucket = policy.vault.bucket;
  const s3 = clients.get(S3Client);
  const kmsKeyArn = await ensureKey(
    clients,
    policy.vault.kmsKeyAlias,
    opts.createKey ?? Boolean(clients.endpoint),
  );
  let created = false;
  if (!(await bucketExists(s3, bucket))) {
    try {
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          // Object Lock can only be switched on at creation time (it turns versioning on too).
          ObjectLockEnabledForBucket: true,
          ObjectOwnership: 'BucketOwnerEnforced',
          ...(clients.region === 'us-east-1'
            ? {}
            : {
                CreateBucketConfiguration: { LocationConstraint: clients.region as BucketLocationConstraint },
              }),
        }),
      );
      created = true;
    } catch (e) {
      if (!(e instanceof BucketAlreadyOwnedByYou) && (e as Error).name !== 'BucketAlreadyOwnedByYou') throw e;
    }
  }
  const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket })).catch((e: Error) => {
    if (e.name === 'ObjectLockConfigurationNotFoundError') return undefined;
    throw e;
  });
  if (lock?.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled') {
    throw new PrerequisiteError(
      `the vault bucket ${bucket} exists without Object Lock; expected a bucket created with Object Lock enabled (kura will not write backups to an unlocked vault)`,
    );
  }
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  // Write the default retention only when it differs: the policy may change
  // it, but a call per run is needless (and moto refuses it on a non-empty bucket).
  const current = lock.ObjectLockConfiguration.Rule?.DefaultRetention;
  const wanted = policy.vault.objectLock;
  if (current?.Mode !== wanted.mode || current?.Days !== wanted.days)
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: {
            DefaultRetention: { Mode: policy.vault.objectLock.mode, Days: policy.vault.objectLock.days },
          },
        },
      }),
    );
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: kmsKeyArn },
            BucketKeyEnabled: true,
          },
        ],
      },
    }),
  );
  await blockPublicAccess(s3, bucket);
  await s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket: bucket,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    }),
  );
  // The TLS-only policy denies every request made over plain HTTP, and moto
  // enforces it: against a local http:// emulator it would lock kura out of
  // its own vault, so it is applied only where requests use TLS (always on AWS).
  const tlsOnly = !clients.endpoint?.startsWith('http://');
  if (tlsOnly) await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: tlsOnlyPolicy(bucket) }));
  const rules = lifecycleRules(policy).map(toS3LifecycleRule);
  if (rules.length > 0) {
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: rules },
      }),
    );
  }
  return { bucket, kmsKeyArn, manifestsPrefix: policy.vault.manifestsPrefix, created, tlsOnly };
}
