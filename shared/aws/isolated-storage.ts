// AWS adapter: the isolated account's key that re-encrypts copied snapshots
// and its bucket for restored content and logs, found or created on first
// use, tagged kura:managed and kura:role like the network.
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { TAG } from '../domain/tags.ts';
import type { Clients } from './clients.ts';
import { awsErrorName, isAwsError, tolerate } from './errors.ts';
import { blockPublicAccess } from './vault.ts';
import { ISOLATED_KEY_ALIAS, NETWORK_ROLE, networkTags, ROLE_TAG } from './isolated-network.ts';

/**
 * The isolated account's key that re-encrypts copied snapshots (customer
 * managed, found by alias, created on first use).
 */
export async function ensureIsolatedKey(clients: Clients, region = clients.region): Promise<string> {
  const kms = clients.get(KMSClient, region);
  const found = await tolerate(['notFound'], () =>
    kms.send(new DescribeKeyCommand({ KeyId: ISOLATED_KEY_ALIAS })),
  );
  if (found?.KeyMetadata?.Arn) return found.KeyMetadata.Arn;
  const key = await kms.send(
    new CreateKeyCommand({
      Description: 'kura isolated restores: re-encrypts snapshots copied into this account',
      Tags: [
        { TagKey: TAG.managed, TagValue: 'true' },
        { TagKey: ROLE_TAG, TagValue: NETWORK_ROLE },
      ],
    }),
  );
  const arn = key.KeyMetadata?.Arn ?? '';
  try {
    await kms.send(
      new CreateAliasCommand({ AliasName: ISOLATED_KEY_ALIAS, TargetKeyId: key.KeyMetadata?.KeyId }),
    );
  } catch (err) {
    if (!isAwsError(err, 'alreadyExists')) throw err;
    const d = await kms.send(new DescribeKeyCommand({ KeyId: ISOLATED_KEY_ALIAS }));
    return d.KeyMetadata?.Arn ?? arn;
  }
  return arn;
}

export function isolatedBucketName(accountId: string, region: string): string {
  return `kura-isolated-${accountId}-${region}`;
}

/**
 * The isolated account's bucket for restored content and logs: private,
 * encrypted, unversioned (so that cleanup really removes what a run wrote).
 */
export async function ensureIsolatedBucket(
  clients: Clients,
  accountId: string,
  region = clients.region,
): Promise<string> {
  const s3 = clients.get(S3Client, region);
  const bucket = isolatedBucketName(accountId, region);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return bucket;
  } catch (err) {
    if (!isAwsError(err, 'notFound')) throw err;
  }
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ObjectOwnership: 'BucketOwnerEnforced',
        ...(region === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
  } catch (err) {
    // Ours already (a retried create); a bucket of that name owned by anyone else is an error.
    if (awsErrorName(err) !== 'BucketAlreadyOwnedByYou') throw err;
  }
  await blockPublicAccess(s3, bucket);
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    }),
  );
  await s3.send(
    new PutBucketTaggingCommand({
      Bucket: bucket,
      Tagging: { TagSet: networkTags(bucket) },
    }),
  );
  return bucket;
}
