// AWS adapter (database class): kura's manual snapshots of RDS instances and
// Aurora clusters (create, copy to the DR region, list, tag, delete), behind
// the DatabasePort that the rds-snapshot use case needs, with the databases
// (rds-databases.ts), the snapshot quotas (rds-snapshot-quotas.ts) and who a
// snapshot is shared with (rds-snapshot-sharing.ts). Decides nothing about policy.
import {
  AddTagsToResourceCommand,
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  RDSClient,
} from '@aws-sdk/client-rds';
import { fromTagList, TAG, type TagMap, toTagList } from '../domain/tags.ts';
import type { Clients } from './clients.ts';
import { isAwsError } from './errors.ts';
import { type Database, type DatabaseKind, listDatabases, setBackupRetention } from './rds-databases.ts';
import { type SnapshotQuota, snapshotQuotas } from './rds-snapshot-quotas.ts';
import { sharedWith, shareSnapshot, unshareSnapshot } from './rds-snapshot-sharing.ts';

export type { Database, DatabaseKind } from './rds-databases.ts';
export type { SnapshotQuota } from './rds-snapshot-quotas.ts';

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

/**
 * The manual snapshots of one database (a function of its own: a reader that
 * needs only this, the restore plan's listing, bundles none of the adapter's
 * writes).
 */
export async function listSnapshots(
  clients: Clients,
  kind: DatabaseKind,
  source: string,
  region?: string,
): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  const client = clients.get(RDSClient, region);
  if (kind === 'instance') {
    const pages = paginateDescribeDBSnapshots({ client }, { DBInstanceIdentifier: source, SnapshotType: 'manual' });
    for await (const page of pages) for (const s of page.DBSnapshots ?? []) out.push(toSnapshot(kind, s));
  } else {
    const pages = paginateDescribeDBClusterSnapshots(
      { client },
      { DBClusterIdentifier: source, SnapshotType: 'manual' },
    );
    for await (const page of pages) for (const s of page.DBClusterSnapshots ?? []) out.push(toSnapshot(kind, s));
  }
  // Describe filters by source; a copy in another region keeps its source id.
  return out.filter((s) => s.source === source);
}

export class RdsAdapter implements DatabasePort {
  constructor(private readonly clients: Clients) {}

  private rds(region?: string): RDSClient {
    return this.clients.get(RDSClient, region);
  }

  listDatabases(): Promise<Database[]> {
    return listDatabases(this.clients);
  }

  setBackupRetention(db: Database, days: number): Promise<void> {
    return setBackupRetention(this.clients, db, days);
  }

  snapshotQuotas(region?: string): Promise<SnapshotQuota[]> {
    return snapshotQuotas(this.clients, region);
  }

  shareSnapshot(snapshot: Snapshot, accountId: string): Promise<void> {
    return shareSnapshot(this.clients, snapshot, accountId);
  }

  sharedWith(snapshot: Snapshot, region?: string): Promise<string[]> {
    return sharedWith(this.clients, snapshot, region);
  }

  unshareSnapshot(snapshot: Snapshot, accountId: string, region?: string): Promise<void> {
    return unshareSnapshot(this.clients, snapshot, accountId, region);
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

  listSnapshots(kind: DatabaseKind, source: string, region?: string): Promise<Snapshot[]> {
    return listSnapshots(this.clients, kind, source, region);
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
    // The source's region is its ARN's (another account's snapshot is named by its ARN):
    // the SDK presigns the copy there when it differs from the destination's.
    const sourceRegion = snapshot.arn.split(':')[3] || this.clients.region;
    const common = { KmsKeyId: kmsKeyId, Tags: toTagList(tags), SourceRegion: sourceRegion };
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

  async tagSnapshot(snapshot: Snapshot, tags: TagMap, region?: string): Promise<void> {
    await this.rds(region).send(
      new AddTagsToResourceCommand({ ResourceName: snapshot.arn, Tags: toTagList(tags) }),
    );
  }
}
