// Local runtime: the vault on the emulator. On AWS the stack owns the vault
// bucket and its key (deploy/template.ts, vaultResources); locally nothing
// deploys them, so the demo, the tests and `kura restore --local` create them
// here with the same protections: versioning, Object Lock with the policy's
// default retention, SSE-KMS with the key behind the policy's alias (bucket
// key on), public access blocked, bucket-owner ownership and the policy's
// lifecycle rules. The one setting left out is the TLS-only bucket policy:
// the emulator is reached over plain HTTP on loopback and enforces that Deny,
// so it would lock every local run out (the lifecycle report shows it missing).
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Clients } from '../shared/aws/clients.ts';
import { isAwsError } from '../shared/aws/errors.ts';
import { blockPublicAccess, toS3LifecycleRule } from '../shared/aws/vault.ts';
import { lifecycleRules } from '../shared/domain/lifecycle/index.ts';
import { TAG } from '../shared/domain/tags.ts';
import type { Policy } from '../shared/policy/schema.ts';
import { PrerequisiteError } from '../shared/runtime/errors.ts';

export interface Vault {
  bucket: string;
  kmsKeyArn: string;
  manifestsPrefix: string;
  /** True when this call created the bucket. */
  created: boolean;
}

async function ensureKey(clients: Clients, alias: string): Promise<string> {
  const kms = clients.get(KMSClient);
  try {
    const d = await kms.send(new DescribeKeyCommand({ KeyId: alias }));
    if (d.KeyMetadata?.Arn) return d.KeyMetadata.Arn;
  } catch (e) {
    if (!isAwsError(e, 'notFound')) throw e;
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
    if (!isAwsError(e, 'alreadyExists')) throw e;
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
    if (isAwsError(e, 'notFound')) return false;
    throw e;
  }
}

/**
 * Makes sure the policy's vault exists on the emulator with every protection.
 * Idempotent; safe to call from several processes. An existing bucket without
 * Object Lock is an error (kura never writes backups to an unlocked vault).
 */
export async function ensureVault(clients: Clients, policy: Policy): Promise<Vault> {
  const bucket = policy.vault.bucket;
  const s3 = clients.get(S3Client);
  const kmsKeyArn = await ensureKey(clients, policy.vault.kmsKeyAlias);
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
      if (!isAwsError(e, 'alreadyExists')) throw e;
    }
  }
  const lock = await s3
    .send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))
    .catch((e: unknown) => {
      if (isAwsError(e, 'notConfigured')) return undefined;
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
  // it, but a call per run is needless (and S3 refuses it on a non-empty bucket).
  const current = lock.ObjectLockConfiguration.Rule?.DefaultRetention;
  const wanted = policy.vault.objectLock;
  if (current?.Mode !== wanted.mode || current?.Days !== wanted.days)
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: wanted.mode, Days: wanted.days } },
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
  const rules = lifecycleRules(policy).map(toS3LifecycleRule);
  if (rules.length > 0) {
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: rules },
      }),
    );
  }
  return { bucket, kmsKeyArn, manifestsPrefix: policy.vault.manifestsPrefix, created };
}
