// AWS adapter: the RDS calls of a point-in-time restore in the source
// account: the window a database can be restored to, the temporary instance
// restored to a time, and the manual snapshot taken of it.
import {
  CreateDBSnapshotCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  RDSClient,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { type TagMap, toTagList } from '../domain/tags.ts';
import type { Policy } from '../policy/schema.ts';
import { sourceAccounts } from '../policy/sources.ts';
import type { Clients } from './clients.ts';
import { tolerate } from './errors.ts';
import { type Snapshot, toSnapshot } from './rds.ts';
import { sourceClients } from './source-clients.ts';
import {
  describeDbCluster,
  describeDbInstance,
  RdsRestoreAdapter,
  type RdsRestorePort,
} from './rds-restore.ts';

export interface PitrWindow {
  earliest?: Date;
  latest?: Date;
  engine: string;
  encrypted: boolean;
  kmsKeyId?: string;
}

/** The window a database can be restored to, or undefined when it does not exist. Read-only. */
export async function pitrWindow(clients: Clients, instance: string): Promise<PitrWindow | undefined> {
  const i = await describeDbInstance(clients, instance);
  if (!i) return undefined;
  // No automated backup record for it (yet): fall back below. Anything else (refused,
  // throttled) is an error, named: a window guessed from retention could be wrong.
  const ab = await tolerate(['notFound'], () =>
    clients
      .get(RDSClient)
      .send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: instance })),
  );
  let earliest = ab?.DBInstanceAutomatedBackups?.[0]?.RestoreWindow?.EarliestTime;
  const latest = i.LatestRestorableTime;
  if (!earliest && latest && i.BackupRetentionPeriod) {
    const byRetention = new Date(latest.getTime() - i.BackupRetentionPeriod * 86_400_000);
    earliest =
      i.InstanceCreateTime && i.InstanceCreateTime > byRetention ? i.InstanceCreateTime : byRetention;
  }
  if (!i.BackupRetentionPeriod)
    return { engine: i.Engine ?? '', encrypted: Boolean(i.StorageEncrypted), kmsKeyId: i.KmsKeyId };
  return {
    earliest,
    latest,
    engine: i.Engine ?? '',
    encrypted: Boolean(i.StorageEncrypted),
    kmsKeyId: i.KmsKeyId,
  };
}

export interface PointInTimeInput {
  source: string;
  target: string;
  time: Date;
  subnetGroup?: string;
  tags: TagMap;
}

/** What the point-in-time path needs in the source account. */
export interface RdsPitrPort extends RdsRestorePort {
  readonly region: string;
  /** The source's DB subnet group (the temporary instance goes into the source's own subnets). */
  subnetGroupOf(instance: string): Promise<string | undefined>;
  /** Private, single-AZ, without deletion protection: only to take a snapshot from. */
  restoreToPointInTime(input: PointInTimeInput): Promise<void>;
  createInstanceSnapshot(instance: string, id: string, tags: TagMap): Promise<Snapshot>;
}

export class RdsPitrAdapter extends RdsRestoreAdapter implements RdsPitrPort {
  constructor(private readonly source: Clients) {
    super(source);
  }

  async subnetGroupOf(instance: string): Promise<string | undefined> {
    return (await describeDbInstance(this.source, instance))?.DBSubnetGroup?.DBSubnetGroupName;
  }

  async restoreToPointInTime(input: PointInTimeInput): Promise<void> {
    await this.source.get(RDSClient).send(
      new RestoreDBInstanceToPointInTimeCommand({
        SourceDBInstanceIdentifier: input.source,
        TargetDBInstanceIdentifier: input.target,
        RestoreTime: input.time,
        PubliclyAccessible: false,
        MultiAZ: false,
        DeletionProtection: false,
        DBSubnetGroupName: input.subnetGroup,
        CopyTagsToSnapshot: false,
        Tags: toTagList(input.tags),
      }),
    );
  }

  async createInstanceSnapshot(instance: string, id: string, tags: TagMap): Promise<Snapshot> {
    const out = await this.source.get(RDSClient).send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: instance,
        DBSnapshotIdentifier: id,
        Tags: toTagList(tags),
      }),
    );
    return toSnapshot('instance', out.DBSnapshot ?? {});
  }
}

/** A database's (instance, else Aurora cluster) LatestRestorableTime; undefined when it has none or is gone. Read-only. */
export async function latestRestorableTime(
  clients: Clients,
  source: string,
  region = clients.region,
): Promise<Date | undefined> {
  const i = await describeDbInstance(clients, source, region);
  if (i) return i.LatestRestorableTime;
  return (await describeDbCluster(clients, source, region))?.LatestRestorableTime;
}

/**
 * The LatestRestorableTime of the database a recovery point protects, read where that
 * database lives: with sources, in its own account (through that account's kura-source
 * role, with its ExternalId) and source region, never a namesake in another account or
 * region; in single-account mode, kura's own account in `region`. Undefined when it has
 * none, is gone, or its account is no longer a source of the policy (nothing to ask).
 */
export async function originLatestRestorableTime(
  base: Clients,
  policy: Policy,
  source: string,
  origin: { account?: string; sourceRegion?: string },
  region = base.region,
): Promise<Date | undefined> {
  if (!origin.account) return latestRestorableTime(base, source, region);
  const account = sourceAccounts(policy).find((s) => s.accountId === origin.account);
  // A copy without its source region (one of an account with several) names no one database.
  const where = origin.sourceRegion ?? (account?.regions.length === 1 ? account.regions[0] : undefined);
  if (!account || !where) return undefined;
  const clients = sourceClients(base, policy).clientsFor({ account: account.accountId, region: where });
  return latestRestorableTime(clients, source, where);
}
