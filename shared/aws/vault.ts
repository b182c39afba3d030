// AWS adapter: the vault's settings in the S3 API's shapes, shared by the
// stack (deploy/template.ts declares them), the emulator's vault
// (local/vault.ts creates it there) and the isolated account's restore bucket:
// the TLS-only bucket policy, lifecycle rules, and the public access block.
import {
  PutPublicAccessBlockCommand,
  type S3Client,
  type LifecycleRule as S3LifecycleRule,
} from '@aws-sdk/client-s3';
import type { LifecycleRule } from '../domain/lifecycle/index.ts';

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
      rule.ObjectSizeGreaterThan !== undefined || rule.TagFilters?.length
        ? {
            And: {
              Prefix: rule.Prefix ?? '',
              ...(rule.TagFilters?.length ? { Tags: rule.TagFilters.map((t) => ({ ...t })) } : {}),
              ...(rule.ObjectSizeGreaterThan !== undefined
                ? { ObjectSizeGreaterThan: rule.ObjectSizeGreaterThan }
                : {}),
            },
          }
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
