// AWS adapter: what a run left in the isolated account. Lists kura-managed
// resources there (optionally only one run's, by the kura:run tag), leaving
// out the long-lived isolated network and key, and tells whether a recorded
// resource still exists. The validation report's "nothing left behind" comes
// from here.
import {
  DeleteVolumeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  EC2Client,
  paginateDescribeImages,
  paginateDescribeVolumes,
} from '@aws-sdk/client-ec2';
import {
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBClusters,
  paginateDescribeDBInstances,
  paginateDescribeDBSnapshots,
  RDSClient,
} from '@aws-sdk/client-rds';
import { HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { fromTagList, isManaged, TAG, type TagMap } from '../domain/tags.ts';
import type { Clients } from './clients.ts';
import { isAwsError } from './errors.ts';
import { NETWORK_ROLE, ROLE_TAG, RUN_TAG } from './isolated-network.ts';
import { RdsAdapter } from './rds.ts';
import { describeDbCluster, describeDbInstance } from './rds-restore.ts';

/** The isolated account as these reads need it (a restore's IsolatedTarget). */
interface Isolated {
  clients: Clients;
  region: string;
}

/** A resource a restore recorded: its CloudFormation type, id and region. */
interface Recorded {
  type: string;
  id: string;
  region: string;
}

export interface Leftover {
  type: string;
  id: string;
  state?: string;
  run?: string;
  /** Why it counts although it carries no kura tags (an untagged volume of a kura launch). */
  note?: string;
}

const counts = (tags: TagMap, runId?: string) =>
  tags[TAG.managed] === 'true' &&
  tags[ROLE_TAG] !== NETWORK_ROLE &&
  (runId === undefined || tags[RUN_TAG] === runId);

/**
 * kura-managed databases, snapshots, instances and volumes in the isolated
 * account (not the isolated network), of one run when `runId` is given, and
 * the untagged volumes kura launches left there. Resources being deleted
 * count: they are not gone yet.
 */
export async function listManagedInIsolated(target: Isolated, runId?: string): Promise<Leftover[]> {
  const out = await listManagedDatabases(target, runId);
  out.push(...(await listManagedServers(target, runId)));
  return out;
}

/** The RDS part of listManagedInIsolated: databases, clusters and their manual snapshots. */
export async function listManagedDatabases(target: Isolated, runId?: string): Promise<Leftover[]> {
  const out: Leftover[] = [];
  const rds = target.clients.get(RDSClient, target.region);
  for await (const page of paginateDescribeDBInstances({ client: rds }, {})) {
    for (const i of page.DBInstances ?? []) {
      const tags = fromTagList(i.TagList);
      if (counts(tags, runId))
        out.push({
          type: 'AWS::RDS::DBInstance',
          id: i.DBInstanceIdentifier ?? '',
          state: i.DBInstanceStatus,
          run: tags[RUN_TAG],
        });
    }
  }
  for await (const page of paginateDescribeDBSnapshots({ client: rds }, { SnapshotType: 'manual' })) {
    for (const s of page.DBSnapshots ?? []) {
      const tags = fromTagList(s.TagList);
      if (counts(tags, runId))
        out.push({
          type: 'AWS::RDS::DBSnapshot',
          id: s.DBSnapshotIdentifier ?? '',
          state: s.Status,
          run: tags[RUN_TAG],
        });
    }
  }
  for await (const page of paginateDescribeDBClusters({ client: rds }, {})) {
    for (const c of page.DBClusters ?? []) {
      const tags = fromTagList(c.TagList);
      if (counts(tags, runId))
        out.push({
          type: 'AWS::RDS::DBCluster',
          id: c.DBClusterIdentifier ?? '',
          state: c.Status,
          run: tags[RUN_TAG],
        });
    }
  }
  for await (const page of paginateDescribeDBClusterSnapshots({ client: rds }, { SnapshotType: 'manual' })) {
    for (const s of page.DBClusterSnapshots ?? []) {
      const tags = fromTagList(s.TagList);
      if (counts(tags, runId))
        out.push({
          type: 'AWS::RDS::DBClusterSnapshot',
          id: s.DBClusterSnapshotIdentifier ?? '',
          state: s.Status,
          run: tags[RUN_TAG],
        });
    }
  }
  return out;
}

/** The EC2 part: instances and volumes, tagged or left untagged by a kura launch. */
async function listManagedServers(target: Isolated, runId?: string): Promise<Leftover[]> {
  const out: Leftover[] = [];
  const ec2 = target.clients.get(EC2Client, target.region);
  const filters = [
    { Name: `tag:${TAG.managed}`, Values: ['true'] },
    ...(runId ? [{ Name: `tag:${RUN_TAG}`, Values: [runId] }] : []),
  ];
  const inst = await ec2.send(new DescribeInstancesCommand({ Filters: filters }));
  for (const r of inst.Reservations ?? []) {
    for (const i of r.Instances ?? []) {
      const tags = fromTagList(i.Tags);
      if (i.State?.Name === 'terminated' || !counts(tags, runId)) continue;
      out.push({
        type: 'AWS::EC2::Instance',
        id: i.InstanceId ?? '',
        state: i.State?.Name,
        run: tags[RUN_TAG],
      });
    }
  }
  const vols = await ec2.send(new DescribeVolumesCommand({ Filters: filters }));
  for (const v of vols.Volumes ?? []) {
    const tags = fromTagList(v.Tags);
    if (counts(tags, runId))
      out.push({ type: 'AWS::EC2::Volume', id: v.VolumeId ?? '', state: v.State, run: tags[RUN_TAG] });
  }
  // Untagged: no run can be told apart, so every run's list names them (they cost money and kura
  // cannot delete what it did not tag: the operator removes them).
  out.push(...(await untaggedLaunchVolumes(target)));
  return out;
}

/**
 * Volumes a kura launch left behind without tags (launched before volumes
 * were tagged and deleted with their instance): detached volumes made from a
 * snapshot of a kura image shared with this account. Their run is unknown.
 */
async function untaggedLaunchVolumes(target: Isolated): Promise<Leftover[]> {
  const ec2 = target.clients.get(EC2Client, target.region);
  const snapshots = new Map<string, string>();
  for await (const page of paginateDescribeImages(
    { client: ec2 },
    { ExecutableUsers: ['self'], Filters: [{ Name: 'name', Values: ['kura-*'] }] },
  )) {
    for (const img of page.Images ?? []) {
      for (const b of img.BlockDeviceMappings ?? [])
        if (b.Ebs?.SnapshotId) snapshots.set(b.Ebs.SnapshotId, img.Name ?? img.ImageId ?? '');
    }
  }
  if (snapshots.size === 0) return [];
  const out: Leftover[] = [];
  for await (const page of paginateDescribeVolumes(
    { client: ec2 },
    { Filters: [{ Name: 'status', Values: ['available'] }] },
  )) {
    for (const v of page.Volumes ?? []) {
      const image = v.SnapshotId ? snapshots.get(v.SnapshotId) : undefined;
      if (!image || fromTagList(v.Tags)[TAG.managed] === 'true') continue;
      out.push({
        type: 'AWS::EC2::Volume',
        id: v.VolumeId ?? '',
        state: v.State,
        note: `untagged, made from ${v.SnapshotId} of the kura image ${image}`,
      });
    }
  }
  return out;
}

/** A read's answer, false when AWS says the resource is not found. */
async function goneIsFalse(read: () => Promise<boolean | undefined>): Promise<boolean | undefined> {
  try {
    return await read();
  } catch (err) {
    if (isAwsError(err, 'notFound')) return false;
    throw err;
  }
}

/** Whether a resource a restore recorded still exists (undefined: kura cannot tell for this type). */
export async function stillExists(target: Isolated, r: Recorded): Promise<boolean | undefined> {
  if (r.type.startsWith('AWS::S3::') || r.type === 'kura::S3::Prefix') return objectStillExists(target, r);
  if (r.type.startsWith('AWS::EC2::')) return serverStillExists(target, r);
  return goneIsFalse(async () => {
    switch (r.type) {
      // RDS reads as the restore adapters make them (not found is undefined there).
      case 'AWS::RDS::DBInstance':
        return (await describeDbInstance(target.clients, r.id, r.region)) !== undefined;
      case 'AWS::RDS::DBCluster':
        return (await describeDbCluster(target.clients, r.id, r.region)) !== undefined;
      case 'AWS::RDS::DBSnapshot':
      case 'AWS::RDS::DBClusterSnapshot': {
        const kind = r.type === 'AWS::RDS::DBSnapshot' ? 'instance' : 'cluster';
        return (await new RdsAdapter(target.clients).getSnapshot(kind, r.id, r.region)) !== undefined;
      }
      default:
        return undefined;
    }
  });
}

/** stillExists for what the image restore makes (an instance, its volumes); undefined for any other type. */
export async function serverStillExists(target: Isolated, r: Recorded): Promise<boolean | undefined> {
  return goneIsFalse(async () => {
    switch (r.type) {
      case 'AWS::EC2::Instance': {
        const d = await target.clients
          .get(EC2Client, r.region)
          .send(new DescribeInstancesCommand({ InstanceIds: [r.id] }));
        const i = d.Reservations?.[0]?.Instances?.[0];
        return i !== undefined && i.State?.Name !== 'terminated';
      }
      case 'AWS::EC2::Volume': {
        const d = await target.clients
          .get(EC2Client, r.region)
          .send(new DescribeVolumesCommand({ VolumeIds: [r.id] }));
        return (d.Volumes?.length ?? 0) > 0;
      }
      default:
        return undefined;
    }
  });
}

/**
 * stillExists for what the content and logs restores make (a bucket, an
 * object, a prefix); undefined for any other type. Their functions take this
 * one alone, and with it no EC2 or RDS client.
 */
export async function objectStillExists(target: Isolated, r: Recorded): Promise<boolean | undefined> {
  return goneIsFalse(async () => {
    switch (r.type) {
      case 'AWS::S3::Bucket':
        await target.clients.get(S3Client, r.region).send(new HeadBucketCommand({ Bucket: r.id }));
        return true;
      case 'AWS::S3::Object':
      case 'kura::S3::Prefix': {
        const raw = r.id.replace(/^s3:\/\//, '');
        const slash = raw.indexOf('/');
        const bucket = raw.slice(0, slash);
        const key = raw.slice(slash + 1);
        const s3 = target.clients.get(S3Client, r.region);
        if (key.endsWith('/') || r.type === 'kura::S3::Prefix') {
          const l = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
          return (l.KeyCount ?? l.Contents?.length ?? 0) > 0;
        }
        await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      }
      default:
        return undefined;
    }
  });
}

/**
 * Deletes a volume a terminated instance left behind, when it is detached
 * (`available`) and kura-managed; 'gone' when it no longer exists, 'kept'
 * when it is attached or not kura's.
 */
export async function deleteLeftoverVolume(
  target: Isolated,
  id: string,
): Promise<'removed' | 'kept' | 'gone'> {
  const ec2 = target.clients.get(EC2Client, target.region);
  try {
    const d = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes?.[0];
    if (d?.State !== 'available' || !isManaged(fromTagList(d.Tags))) return d ? 'kept' : 'gone';
    await ec2.send(new DeleteVolumeCommand({ VolumeId: id }));
    return 'removed';
  } catch (err) {
    if (isAwsError(err, 'notFound')) return 'gone';
    throw err;
  }
}

/** The reads above as the use cases receive them (shared/edge/restore-ports.ts, shared/edge/ports.ts). */
export interface LeftoversPort {
  listManaged(target: Isolated, runId?: string): Promise<Leftover[]>;
  stillExists(target: Isolated, r: Recorded): Promise<boolean | undefined>;
  deleteVolume(target: Isolated, id: string): Promise<'removed' | 'kept' | 'gone'>;
}

export const awsLeftovers: LeftoversPort = {
  listManaged: listManagedInIsolated,
  stillExists,
  deleteVolume: deleteLeftoverVolume,
};
