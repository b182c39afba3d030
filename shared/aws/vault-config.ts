// AWS adapter: what the vault and the estate really are, read for the
// lifecycle report: the bucket's protections (versioning, Object Lock,
// encryption and its key, public access block, bucket policy), every object
// version's size and storage class, and the provisioned size of kura's
// snapshots. Only reads; a read that is refused is reported, never guessed.
import { EC2Client, paginateDescribeSnapshots } from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { VaultConfig } from '../domain/reports/vault-drift.ts';
import { fromTagList, isManaged, TAG } from '../domain/tags.ts';
import type { Policy } from '../policy/schema.ts';
import type { Clients } from './clients.ts';
import { isAwsError, tolerate } from './errors.ts';

async function read<T>(what: string, unreadable: string[], f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (err) {
    // "This setting is not configured" is an answer; anything else means it could not be read.
    if (!isAwsError(err, 'notConfigured')) {
      const e = err as Error;
      unreadable.push(`${what}: ${e.name}: ${e.message}`);
    }
    return undefined;
  }
}

/** A key id, key ARN or alias, resolved to its key ARN (undefined when KMS does not know it). */
export async function resolveKeyArn(
  clients: Clients,
  keyId: string | undefined,
): Promise<string | undefined> {
  if (!keyId) return undefined;
  // Unknown to KMS: undefined. Refused or throttled: thrown, and the report says it could not read it.
  return tolerate(['notFound'], async () => {
    const d = await clients.get(KMSClient).send(new DescribeKeyCommand({ KeyId: keyId }));
    return d.KeyMetadata?.Arn;
  });
}

export async function readVaultConfig(clients: Clients, policy: Policy): Promise<VaultConfig> {
  const s3 = clients.get(S3Client);
  const Bucket = policy.vault.bucket;
  try {
    await s3.send(new HeadBucketCommand({ Bucket }));
  } catch (err) {
    if (isAwsError(err, 'notFound')) return { exists: false, unreadable: [] };
    throw err;
  }
  const unreadable: string[] = [];
  const versioning = await read('versioning', unreadable, () =>
    s3.send(new GetBucketVersioningCommand({ Bucket })),
  );
  const lock = await read('Object Lock', unreadable, () =>
    s3.send(new GetObjectLockConfigurationCommand({ Bucket })),
  );
  const enc = await read('encryption', unreadable, () => s3.send(new GetBucketEncryptionCommand({ Bucket })));
  const pab = await read('public access block', unreadable, () =>
    s3.send(new GetPublicAccessBlockCommand({ Bucket })),
  );
  const bp = await read('bucket policy', unreadable, () => s3.send(new GetBucketPolicyCommand({ Bucket })));
  const rule = enc?.ServerSideEncryptionConfiguration?.Rules?.[0];
  const keyId = rule?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID;
  const retention = lock?.ObjectLockConfiguration?.Rule?.DefaultRetention;
  return {
    exists: true,
    versioning: versioning?.Status,
    objectLock: lock
      ? {
          enabled: lock.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled',
          mode: retention?.Mode,
          days: retention?.Days,
          years: retention?.Years,
        }
      : undefined,
    encryption: rule
      ? {
          algorithm: rule.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
          keyId,
          keyArn: await resolveKeyArn(clients, keyId),
          bucketKey: rule.BucketKeyEnabled,
        }
      : undefined,
    policyKeyArn: await resolveKeyArn(clients, policy.vault.kmsKeyAlias),
    publicAccessBlock: pab?.PublicAccessBlockConfiguration
      ? {
          BlockPublicAcls: pab.PublicAccessBlockConfiguration.BlockPublicAcls,
          IgnorePublicAcls: pab.PublicAccessBlockConfiguration.IgnorePublicAcls,
          BlockPublicPolicy: pab.PublicAccessBlockConfiguration.BlockPublicPolicy,
          RestrictPublicBuckets: pab.PublicAccessBlockConfiguration.RestrictPublicBuckets,
        }
      : undefined,
    bucketPolicy: bp?.Policy,
    unreadable,
  };
}

export interface StoredVersion {
  key: string;
  size: number;
  storageClass: string;
}

/** Every object version in the vault (current and noncurrent: both are billed). */
export async function* vaultVersions(clients: Clients, bucket: string): AsyncGenerator<StoredVersion> {
  // The SDK has no paginator for ListObjectVersions: follow the two markers by hand.
  const s3 = clients.get(S3Client);
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker }));
    for (const v of page.Versions ?? [])
      yield { key: v.Key ?? '', size: v.Size ?? 0, storageClass: v.StorageClass ?? 'STANDARD' };
    KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (KeyMarker);
}

export interface SnapshotVolume {
  source: string;
  id: string;
  region: string;
  /** Provisioned size in GiB (the most a snapshot can hold, not what it bills). */
  gib: number;
}

/** kura's database snapshots (instance and cluster) in the given regions, with AllocatedStorage. */
export async function databaseSnapshotVolumes(
  clients: Clients,
  regions: string[],
): Promise<SnapshotVolume[]> {
  const out: SnapshotVolume[] = [];
  for (const region of regions) {
    const client = clients.get(RDSClient, region);
    for await (const page of paginateDescribeDBSnapshots({ client }, { SnapshotType: 'manual' })) {
      for (const s of page.DBSnapshots ?? []) {
        if (!isManaged(fromTagList(s.TagList), 'database')) continue;
        out.push({
          source: s.DBInstanceIdentifier ?? '',
          id: s.DBSnapshotIdentifier ?? '',
          region,
          gib: s.AllocatedStorage ?? 0,
        });
      }
    }
    for await (const page of paginateDescribeDBClusterSnapshots({ client }, { SnapshotType: 'manual' })) {
      for (const s of page.DBClusterSnapshots ?? []) {
        if (!isManaged(fromTagList(s.TagList), 'database')) continue;
        out.push({
          source: s.DBClusterIdentifier ?? '',
          id: s.DBClusterSnapshotIdentifier ?? '',
          region,
          gib: s.AllocatedStorage ?? 0,
        });
      }
    }
  }
  return out;
}

/** The EBS snapshots behind kura's machine images, with VolumeSize. */
export async function imageSnapshotVolumes(clients: Clients, regions: string[]): Promise<SnapshotVolume[]> {
  const out: SnapshotVolume[] = [];
  for (const region of regions) {
    const pages = paginateDescribeSnapshots(
      { client: clients.get(EC2Client, region) },
      {
        OwnerIds: ['self'],
        Filters: [
          { Name: `tag:${TAG.managed}`, Values: ['true'] },
          { Name: `tag:${TAG.class}`, Values: ['image'] },
        ],
      },
    );
    for await (const page of pages) {
      for (const s of page.Snapshots ?? []) {
        out.push({
          source: fromTagList(s.Tags)[TAG.source] ?? '',
          id: s.SnapshotId ?? '',
          region,
          gib: s.VolumeSize ?? 0,
        });
      }
    }
  }
  return out;
}
