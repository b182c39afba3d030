// AWS adapter: RDS instances, Aurora clusters and their manual snapshots,
// behind the DatabasePort that the rds-snapshot use case needs. Decides
// nothing about policy.
import {
  AddTagsToResourceCommand,
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeAccountAttributesCommand,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBClusterCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBInstanceCommand,
  ModifyDBSnapshotAttributeCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBClusters,
  paginateDescribeDBInstances,
  paginateDescribeDBSnapshots,
  RDSClient,
} from '@aws-sdk/client-rds';
import { fromTagList, TAG, type TagMap, toTagList } from '../domain/tags.ts';
import type { Clients } from './clients.ts';
import { describeAwsError, isAwsError } from './errors.ts';

export type DatabaseKind = 'instance' | 'cluster';

export interface Database {
  id: string;
  kind: DatabaseKind;
  arn: string;
  engine: string;
  status: string;
  tags: TagMap;
  backupRetentionDays: number;
  latestRestorableTime?: Date;
  encrypted: boolean;
  kmsKeyId?: string;
}

export interface Snapshot {
  id: string;
  arn: string;
  kind: DatabaseKind;
  source: string;
  status: string;
  tags: TagMap;
  encrypted: boolean;
  kmsKeyId?: string;
  createdAt?: Date;
  engine?: string;
  engineVersion?: string;
  /** GiB; instance snapshots only (Aurora storage is not allocated: it grows with the data). */
  allocatedStorage?: number;
}

export interface DatabasePort {
  listDatabases(): Promise<Database[]>;
  getSnapshot(kind: DatabaseKind, id: string, region?: string): Promise<Snapshot | undefined>;
  createSnapshot(db: Database, id: string, tags: TagMap): Promise<Snapshot>;
  /** Manual snapshots of one source in one region (all of them; the caller filters by tags). */
  listSnapshots(kind: DatabaseKind, source: string, region?: string): Promise<Snapshot[]>;
  /** Manual snapshots used, per kind, against the account's quota in a region (max undefined when unreadable). */
  snapshotQuotas(region?: string): Promise<SnapshotQuota[]>;
  /** Accounts in the snapshot's `restore` attribute (those it is shared with; "all" when public). */
  sharedWith(snapshot: Snapshot, region?: string): Promise<string[]>;
  deleteSnapshot(snapshot: Snapshot, region?: string): Promise<void>;
  copySnapshot(
    snapshot: Snapshot,
    toRegion: string,
    targetId: string,
    tags: TagMap,
    kmsKeyId?: string,
  ): Promise<Snapshot>;
  shareSnapshot(snapshot: Snapshot, accountId: string): Promise<void>;
  setBackupRetention(db: Database, days: number): Promise<void>;
  tagSnapshot(snapshot: Snapshot, tags: TagMap, region?: string): Promise<void>;
}

export interface SnapshotQuota {
  kind: DatabaseKind;
  used: number;
  max?: number;
  /** Why the quota could not be read (the error, by name). */
  unreadable?: string;
}

/** RDS account quota names (DescribeAccountAttributes) of manual snapshots, per kind. */
const QUOTA_NAMES: Record<DatabaseKind, string> = {
  instance: 'ManualSnapshots',
  cluster: 'ManualClusterSnapshots',
};

type RawSnapshot = {
  DBSnapshotIdentifier?: string;
  DBClusterSnapshotIdentifier?: string;
  DBSnapshotArn?: string;
  DBClusterSnapshotArn?: string;
  DBInstanceIdentifier?: string;
  DBClusterIdentifier?: string;
  Status?: string;
  TagList?: { Key?: string; Value?: string }[];
  Encrypted?: boolean;
  StorageEncrypted?: boolean;
  KmsKeyId?: string;
  SnapshotCreateTime?: Date;
  Engine?: string;
  EngineVersion?: string;
  AllocatedStorage?: number;
};

export function toSnapshot(kind: DatabaseKind, s: RawSnapshot): Snapshot {
  return {
    id: (kind === 'instance' ? s.DBSnapshotIdentifier : s.DBClusterSnapshotIdentifier) ?? '',
    arn: (kind === 'instance' ? s.DBSnapshotArn : s.DBClusterSnapshotArn) ?? '',
    kind,
    source: (kind === 'instance' ? s.DBInstanceIdentifier : s.DBClusterIdentifier) ?? '',
    status: s.Status ?? 'unknown',
    tags: fromTagList(s.TagList),
    encrypted: Boolean(s.Encrypted ?? s.StorageEncrypted),
    kmsKeyId: s.KmsKeyId,
    createdAt: s.SnapshotCreateTime,
    engine: s.Engine,
    engineVersion: s.EngineVersion,
    allocatedStorage: kind === 'instance' ? s.AllocatedStorage : undefined,
  };
}

/**
 * A create or copy that the SDK retried after its first answer was lost (the
 * request was applied) fails with ...AlreadyExists. The snapshot is ours when
 * it carries the very kura tags we asked for: then the create succeeded.
 */
function isOwnSnapshot(s: Snapshot | undefined, tags: TagMap): s is Snapshot {
  return (
    s !== undefined &&
    s.tags[TAG.managed] === 'true' &&
    s.tags[TAG.source] === tags[TAG.source] &&
    s.tags[TAG.time] === tags[TAG.time]
  );
}

export class RdsAdapter implements DatabasePort {
  constructor(private readonly clients: Clients) {}

  private rds(region?: string): RDSClient {
    return this.clients.get(RDSClient, region);
  }

  async listDatabases(): Promise<Database[]> {
    const out: Database[] = [];
    for await (const page of paginateDescribeDBInstances({ client: this.rds() }, {})) {
      for (const i of page.DBInstances ?? []) {
        // Aurora members are backed up through their cluster.
        if (i.DBClusterIdentifier) continue;
        out.push({
          id: i.DBInstanceIdentifier ?? '',
          kind: 'instance',
          arn: i.DBInstanceArn ?? '',
          engine: i.Engine ?? '',
          status: i.DBInstanceStatus ?? 'unknown',
          tags: fromTagList(i.TagList),
          backupRetentionDays: i.BackupRetentionPeriod ?? 0,
          latestRestorableTime: i.LatestRestorableTime,
          encrypted: Boolean(i.StorageEncrypted),
          kmsKeyId: i.KmsKeyId,
        });
      }
    }
    for await (const page of paginateDescribeDBClusters({ client: this.rds() }, {})) {
      for (const c of page.DBClusters ?? []) {
        out.push({
          id: c.DBClusterIdentifier ?? '',
          kind: 'cluster',
          arn: c.DBClusterArn ?? '',
          engine: c.Engine ?? '',
          status: c.Status ?? 'unknown',
          tags: fromTagList(c.TagList),
          backupRetentionDays: c.BackupRetentionPeriod ?? 0,
          latestRestorableTime: c.LatestRestorableTime,
          encrypted: Boolean(c.StorageEncrypted),
          kmsKeyId: c.KmsKeyId,
        });
      }
    }
    return out;
  }

  async getSnapshot(kind: DatabaseKind, id: string, region?: string): Promise<Snapshot | undefined> {
    try {
      if (kind === 'instance') {
        const r = await this.rds(region).send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
        const s = r.DBSnapshots?.[0];
        return s ? toSnapshot(kind, s) : undefined;
      }
      const r = await this.rds(region).send(
        new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id }),
      );
      const s = r.DBClusterSnapshots?.[0];
      return s ? toSnapshot(kind, s) : undefined;
    } catch (err) {
      if (isAwsError(err, 'notFound')) return undefined;
      throw err;
    }
  }

  async createSnapshot(db: Database, id: string, tags: TagMap): Promise<Snapshot> {
    return this.orOwnSnapshot({ kind: db.kind, id, tags }, () => this.createSnapshotOnce(db, id, tags));
  }

  /** `make` (a create or copy); on ...AlreadyExists, the existing snapshot when it is ours (isOwnSnapshot). */
  private async orOwnSnapshot(
    want: { kind: DatabaseKind; id: string; tags: TagMap; region?: string },
    make: () => Promise<Snapshot>,
  ): Promise<Snapshot> {
    try {
      return await make();
    } catch (err) {
      if (!isAwsError(err, 'alreadyExists')) throw err;
      const existing = await this.getSnapshot(want.kind, want.id, want.region);
      if (isOwnSnapshot(existing, want.tags)) return existing;
      throw err;
    }
  }

  private async createSnapshotOnce(db: Database, id: string, tags: TagMap): Promise<Snapshot> {
    if (db.kind === 'instance') {
      const r = await this.rds().send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: db.id,
          DBSnapshotIdentifier: id,
          Tags: toTagList(tags),
        }),
      );
      return toSnapshot('instance', r.DBSnapshot ?? {});
    }
    const r = await this.rds().send(
      new CreateDBClusterSnapshotCommand({
        DBClusterIdentifier: db.id,
        DBClusterSnapshotIdentifier: id,
        Tags: toTagList(tags),
      }),
    );
    return toSnapshot('cluster', r.DBClusterSnapshot ?? {});
  }

  async listSnapshots(kind: DatabaseKind, source: string, region?: string): Promise<Snapshot[]> {
    const out: Snapshot[] = [];
    if (kind === 'instance') {
      const pages = paginateDescribeDBSnapshots(
        { client: this.rds(region) },
        { DBInstanceIdentifier: source, SnapshotType: 'manual' },
      );
      for await (const page of pages) for (const s of page.DBSnapshots ?? []) out.push(toSnapshot(kind, s));
    } else {
      const pages = paginateDescribeDBClusterSnapshots(
        { client: this.rds(region) },
        { DBClusterIdentifier: source, SnapshotType: 'manual' },
      );
      for await (const page of pages)
        for (const s of page.DBClusterSnapshots ?? []) out.push(toSnapshot(kind, s));
    }
    // Describe filters by source; a copy in another region keeps its source id.
    return out.filter((s) => s.source === source);
  }

  async snapshotQuotas(region?: string): Promise<SnapshotQuota[]> {
    let attrs: { AccountQuotaName?: string; Used?: number; Max?: number }[] | undefined;
    let unreadable: string | undefined;
    try {
      attrs = (await this.rds(region).send(new DescribeAccountAttributesCommand({}))).AccountQuotas;
    } catch (err) {
      // Refused or throttled: say so by name and count instead; anything else is a fault.
      if (!isAwsError(err, 'accessDenied', 'throttled')) throw err;
      unreadable = describeAwsError(err);
    }
    const out: SnapshotQuota[] = [];
    for (const kind of ['instance', 'cluster'] as const) {
      const q = attrs?.find((a) => a.AccountQuotaName === QUOTA_NAMES[kind]);
      if (q?.Used !== undefined && q.Max !== undefined) out.push({ kind, used: q.Used, max: q.Max });
      else
        out.push({
          kind,
          used: await this.countManual(kind, region),
          unreadable: unreadable ?? `DescribeAccountAttributes has no ${QUOTA_NAMES[kind]}`,
        });
    }
    return out;
  }

  private async countManual(kind: DatabaseKind, region?: string): Promise<number> {
    let n = 0;
    if (kind === 'instance') {
      for await (const page of paginateDescribeDBSnapshots(
        { client: this.rds(region) },
        { SnapshotType: 'manual' },
      ))
        n += page.DBSnapshots?.length ?? 0;
    } else {
      for await (const page of paginateDescribeDBClusterSnapshots(
        { client: this.rds(region) },
        { SnapshotType: 'manual' },
      ))
        n += page.DBClusterSnapshots?.length ?? 0;
    }
    return n;
  }

  async deleteSnapshot(snapshot: Snapshot, region?: string): Promise<void> {
    try {
      if (snapshot.kind === 'instance') {
        await this.rds(region).send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: snapshot.id }));
      } else {
        await this.rds(region).send(
          new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: snapshot.id }),
        );
      }
    } catch (err) {
      // Already gone: a retried delete whose first answer was lost. The goal is reached.
      if (!isAwsError(err, 'notFound')) throw err;
    }
  }

  async copySnapshot(
    snapshot: Snapshot,
    toRegion: string,
    targetId: string,
    tags: TagMap,
    kmsKeyId?: string,
  ): Promise<Snapshot> {
    return this.orOwnSnapshot({ kind: snapshot.kind, id: targetId, tags, region: toRegion }, () =>
      this.copySnapshotOnce(snapshot, toRegion, targetId, tags, kmsKeyId),
    );
  }

  private async copySnapshotOnce(
    snapshot: Snapshot,
    toRegion: string,
    targetId: string,
    tags: TagMap,
    kmsKeyId?: string,
  ): Promise<Snapshot> {
    const common = { KmsKeyId: kmsKeyId, Tags: toTagList(tags), SourceRegion: this.clients.region };
    if (snapshot.kind === 'instance') {
      const r = await this.rds(toRegion).send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: snapshot.arn,
          TargetDBSnapshotIdentifier: targetId,
          ...common,
        }),
      );
      return toSnapshot('instance', r.DBSnapshot ?? {});
    }
    const r = await this.rds(toRegion).send(
      new CopyDBClusterSnapshotCommand({
        SourceDBClusterSnapshotIdentifier: snapshot.arn,
        TargetDBClusterSnapshotIdentifier: targetId,
        ...common,
      }),
    );
    return toSnapshot('cluster', r.DBClusterSnapshot ?? {});
  }

  async shareSnapshot(snapshot: Snapshot, accountId: string): Promise<void> {
    const attr = { AttributeName: 'restore', ValuesToAdd: [accountId] };
    if (snapshot.kind === 'instance') {
      await this.rds().send(
        new ModifyDBSnapshotAttributeCommand({ DBSnapshotIdentifier: snapshot.id, ...attr }),
      );
    } else {
      await this.rds().send(
        new ModifyDBClusterSnapshotAttributeCommand({ DBClusterSnapshotIdentifier: snapshot.id, ...attr }),
      );
    }
  }

  /** Accounts in the snapshot's `restore` attribute (those it is shared with; "all" when public). */
  async sharedWith(snapshot: Snapshot, region?: string): Promise<string[]> {
    if (snapshot.kind === 'instance') {
      const r = await this.rds(region).send(
        new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: snapshot.id }),
      );
      const attrs = r.DBSnapshotAttributesResult?.DBSnapshotAttributes ?? [];
      return attrs.find((a) => a.AttributeName === 'restore')?.AttributeValues ?? [];
    }
    const r = await this.rds(region).send(
      new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: snapshot.id }),
    );
    const attrs = r.DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes ?? [];
    return attrs.find((a) => a.AttributeName === 'restore')?.AttributeValues ?? [];
  }

  /** Removes an account from the snapshot's `restore` attribute. */
  async unshareSnapshot(snapshot: Snapshot, accountId: string, region?: string): Promise<void> {
    const attr = { AttributeName: 'restore', ValuesToRemove: [accountId] };
    if (snapshot.kind === 'instance') {
      await this.rds(region).send(
        new ModifyDBSnapshotAttributeCommand({ DBSnapshotIdentifier: snapshot.id, ...attr }),
      );
    } else {
      await this.rds(region).send(
        new ModifyDBClusterSnapshotAttributeCommand({ DBClusterSnapshotIdentifier: snapshot.id, ...attr }),
      );
    }
  }

  async setBackupRetention(db: Database, days: number): Promise<void> {
    if (db.kind === 'instance') {
      await this.rds().send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: db.id,
          BackupRetentionPeriod: days,
          ApplyImmediately: true,
        }),
      );
    } else {
      await this.rds().send(
        new ModifyDBClusterCommand({
          DBClusterIdentifier: db.id,
          BackupRetentionPeriod: days,
          ApplyImmediately: true,
        }),
      );
    }
  }

  async tagSnapshot(snapshot: Snapshot, tags: TagMap, region?: string): Promise<void> {
    await this.rds(region).send(
      new AddTagsToResourceCommand({ ResourceName: snapshot.arn, Tags: toTagList(tags) }),
    );
  }
}
