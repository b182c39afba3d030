// AWS adapter: the RDS calls of a restore. In the isolated account: copy a
// snapshot shared with it, restore an instance or an Aurora cluster (and its
// writer) from the copy, read them back, delete them. In the source account:
// the point-in-time path's temporary instance. Every read of a missing
// resource answers undefined (errors.ts decides what "missing" is); decides
// nothing about which resources may be touched (the restore steps do).
import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBInstanceCommand,
  type DBCluster,
  type DBInstance,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { fromTagList, type TagMap, toTagList } from '../domain/tags.ts';
import type { Clients } from './clients.ts';
import { tolerate } from './errors.ts';
import { type DatabaseKind, RdsAdapter, type Snapshot } from './rds.ts';

/** An RDS instance or cluster as a restore sees it. */
export interface RdsResource {
  id: string;
  status: string;
  tags: TagMap;
  /** host:port, once RDS has one. */
  endpoint?: string;
  engine?: string;
  /** Instance: the cluster it belongs to. */
  clusterId?: string;
  /** Cluster: how many instances still belong to it. */
  memberCount?: number;
}

export interface RestoreInstanceInput {
  id: string;
  snapshotId: string;
  instanceClass: string;
  subnetGroup?: string;
  securityGroupId: string;
  tags: TagMap;
}

export interface RestoreClusterInput {
  id: string;
  snapshotId: string;
  engine?: string;
  engineVersion?: string;
  subnetGroup?: string;
  securityGroupId: string;
  kmsKeyId: string;
  tags: TagMap;
}

export interface ClusterWriterInput {
  id: string;
  clusterId: string;
  engine?: string;
  instanceClass: string;
  subnetGroup?: string;
  tags: TagMap;
}

/** What a restore into (or a temporary restore in) one account and region needs from RDS. */
export interface RdsRestorePort {
  getSnapshot(kind: DatabaseKind, id: string): Promise<Snapshot | undefined>;
  /**
   * Copies a snapshot shared by another account, by its ARN, into this one. An
   * encrypted shared snapshot must be copied with a key of this account; an
   * unencrypted cluster snapshot cannot be encrypted by a copy
   * (CopyDBClusterSnapshot refuses KmsKeyId for it), so the key is passed only
   * for an encrypted one; the cluster restore encrypts it.
   */
  copyShared(source: Snapshot, copyId: string, kmsKeyId: string, tags: TagMap): Promise<void>;
  getInstance(id: string): Promise<RdsResource | undefined>;
  getCluster(id: string): Promise<RdsResource | undefined>;
  /** Not publicly accessible, single-AZ, without deletion protection. */
  restoreInstance(input: RestoreInstanceInput): Promise<void>;
  restoreCluster(input: RestoreClusterInput): Promise<void>;
  createClusterWriter(input: ClusterWriterInput): Promise<void>;
  /** Skips the final snapshot. */
  deleteInstance(id: string, opts: { deleteAutomatedBackups: boolean }): Promise<void>;
  deleteCluster(id: string): Promise<void>;
  deleteSnapshot(kind: DatabaseKind, id: string): Promise<void>;
}

function instanceOf(i: DBInstance): RdsResource {
  return {
    id: i.DBInstanceIdentifier ?? '',
    status: i.DBInstanceStatus ?? 'unknown',
    tags: fromTagList(i.TagList),
    endpoint: i.Endpoint?.Address ? `${i.Endpoint.Address}:${i.Endpoint.Port ?? ''}` : undefined,
    engine: i.Engine,
    clusterId: i.DBClusterIdentifier,
  };
}

function clusterOf(c: DBCluster): RdsResource {
  return {
    id: c.DBClusterIdentifier ?? '',
    status: c.Status ?? 'unknown',
    tags: fromTagList(c.TagList),
    endpoint: c.Endpoint ? `${c.Endpoint}:${c.Port ?? ''}` : undefined,
    engine: c.Engine,
    memberCount: (c.DBClusterMembers ?? []).length,
  };
}

/** The RDS instance as the SDK describes it, or undefined when there is none. */
export async function describeDbInstance(
  clients: Clients,
  id: string,
  region = clients.region,
): Promise<DBInstance | undefined> {
  return tolerate(
    ['notFound'],
    async () =>
      (
        await clients
          .get(RDSClient, region)
          .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))
      ).DBInstances?.[0],
  );
}

/** The Aurora cluster as the SDK describes it, or undefined when there is none. */
export async function describeDbCluster(
  clients: Clients,
  id: string,
  region = clients.region,
): Promise<DBCluster | undefined> {
  return tolerate(
    ['notFound'],
    async () =>
      (await clients.get(RDSClient, region).send(new DescribeDBClustersCommand({ DBClusterIdentifier: id })))
        .DBClusters?.[0],
  );
}

export class RdsRestoreAdapter implements RdsRestorePort {
  private readonly snapshots: RdsAdapter;

  constructor(
    private readonly clients: Clients,
    readonly region = clients.region,
  ) {
    this.snapshots = new RdsAdapter(clients);
  }

  private rds(): RDSClient {
    return this.clients.get(RDSClient, this.region);
  }

  getSnapshot(kind: DatabaseKind, id: string): Promise<Snapshot | undefined> {
    return this.snapshots.getSnapshot(kind, id, this.region);
  }

  async copyShared(source: Snapshot, copyId: string, kmsKeyId: string, tags: TagMap): Promise<void> {
    if (source.kind === 'instance') {
      await this.rds().send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: source.arn,
          TargetDBSnapshotIdentifier: copyId,
          KmsKeyId: kmsKeyId,
          Tags: toTagList(tags),
          CopyTags: false,
        }),
      );
      return;
    }
    await this.rds().send(
      new CopyDBClusterSnapshotCommand({
        SourceDBClusterSnapshotIdentifier: source.arn,
        TargetDBClusterSnapshotIdentifier: copyId,
        ...(source.encrypted ? { KmsKeyId: kmsKeyId } : {}),
        Tags: toTagList(tags),
        CopyTags: false,
      }),
    );
  }

  async getInstance(id: string): Promise<RdsResource | undefined> {
    const i = await describeDbInstance(this.clients, id, this.region);
    return i ? instanceOf(i) : undefined;
  }

  async getCluster(id: string): Promise<RdsResource | undefined> {
    const c = await describeDbCluster(this.clients, id, this.region);
    return c ? clusterOf(c) : undefined;
  }

  async restoreInstance(input: RestoreInstanceInput): Promise<void> {
    await this.rds().send(
      new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: input.id,
        DBSnapshotIdentifier: input.snapshotId,
        DBInstanceClass: input.instanceClass,
        DBSubnetGroupName: input.subnetGroup,
        VpcSecurityGroupIds: [input.securityGroupId],
        PubliclyAccessible: false,
        MultiAZ: false,
        DeletionProtection: false,
        AutoMinorVersionUpgrade: false,
        CopyTagsToSnapshot: false,
        Tags: toTagList(input.tags),
      }),
    );
  }

  async restoreCluster(input: RestoreClusterInput): Promise<void> {
    await this.rds().send(
      new RestoreDBClusterFromSnapshotCommand({
        DBClusterIdentifier: input.id,
        SnapshotIdentifier: input.snapshotId,
        Engine: input.engine,
        EngineVersion: input.engineVersion,
        DBSubnetGroupName: input.subnetGroup,
        VpcSecurityGroupIds: [input.securityGroupId],
        KmsKeyId: input.kmsKeyId,
        DeletionProtection: false,
        CopyTagsToSnapshot: false,
        Tags: toTagList(input.tags),
      }),
    );
  }

  async createClusterWriter(input: ClusterWriterInput): Promise<void> {
    await this.rds().send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: input.id,
        DBClusterIdentifier: input.clusterId,
        Engine: input.engine,
        DBInstanceClass: input.instanceClass,
        DBSubnetGroupName: input.subnetGroup,
        PubliclyAccessible: false,
        AutoMinorVersionUpgrade: false,
        Tags: toTagList(input.tags),
      }),
    );
  }

  // Deletes: already gone is the goal reached (a retried call whose first answer was lost).
  async deleteInstance(id: string, opts: { deleteAutomatedBackups: boolean }): Promise<void> {
    await tolerate(['notFound'], () =>
      this.rds().send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: id,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: opts.deleteAutomatedBackups,
        }),
      ),
    );
  }

  async deleteCluster(id: string): Promise<void> {
    await tolerate(['notFound'], () =>
      this.rds().send(new DeleteDBClusterCommand({ DBClusterIdentifier: id, SkipFinalSnapshot: true })),
    );
  }

  async deleteSnapshot(kind: DatabaseKind, id: string): Promise<void> {
    await this.snapshots.deleteSnapshot({ kind, id } as Snapshot, this.region);
  }
}
