// Restore (database, point in time): RDS cannot restore a point in time into
// another account directly. kura restores the source database's automated
// backups to a temporary instance in the SOURCE account
// (RestoreDBInstanceToPointInTime), snapshots it, and hands that snapshot to
// the database RestoreStep (share, copy re-encrypted, restore isolated) like
// any other snapshot. Then the temporary instance and snapshot are removed.
// Why not automated-backup replication: see docs/restore.md.
//
// Each call advances one stage and returns "not ready" while RDS works, so a
// state machine can wait between calls (no Lambda runs longer than a minute)
// and a re-run of the same request resumes at the stage it reached.
import { isAwsError } from '../aws/errors.ts';
import {
  CreateDBSnapshotCommand,
  type DBInstance,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import type { Clients } from '../aws/clients.ts';
import { bothZones } from '../domain/calendar.ts';
import { fromTagList, isManaged, managedTags, TAG, toTagList } from '../domain/tags.ts';
import type { ItemRecord, PlanItem } from './plan.ts';
import type { CreatedResource, RecoveryPointRef } from './types.ts';

export const PITR_CREATED_BY = 'restore-pitr';
export const REQUEST_TAG = 'kura:restore-request';

export interface PitrWindow {
  earliest?: Date;
  latest?: Date;
  engine: string;
  encrypted: boolean;
  kmsKeyId?: string;
}

/** The window a database can be restored to, or undefined when it does not exist. Read-only. */
export async function pitrWindow(clients: Clients, instance: string): Promise<PitrWindow | undefined> {
  const rds = clients.get(RDSClient);
  let i: DBInstance | undefined;
  try {
    i = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instance }))).DBInstances?.[0];
  } catch (err) {
    if (isAwsError(err, 'notFound')) return undefined;
    throw err;
  }
  if (!i) return undefined;
  let earliest: Date | undefined;
  try {
    const ab = await rds.send(
      new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: instance }),
    );
    earliest = ab.DBInstanceAutomatedBackups?.[0]?.RestoreWindow?.EarliestTime;
  } catch (err) {
    // No automated backup record for it (yet): fall back below. Anything else (refused,
    // throttled) is an error, named: a window guessed from retention could be wrong.
    if (!isAwsError(err, 'notFound')) throw err;
  }
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

/** Snapshots on either side of a requested time, to name instead of a point in time that cannot be had. */
export interface NearestSnapshots {
  before?: { id: string; time: string };
  after?: { id: string; time: string };
}

function instead(nearest: NearestSnapshots | undefined, timeZone: string): string {
  const one = nearest?.before ?? nearest?.after;
  if (!one) return '';
  const list = [nearest?.before, nearest?.after]
    .filter((s): s is { id: string; time: string } => Boolean(s))
    .map((s) => `${s.id} (${bothZones(s.time, timeZone)})`)
    .join(' and ');
  return `; the nearest snapshot${nearest?.before && nearest.after ? 's are' : ' is'} ${list}: to restore one instead, use "snapshot": "${one.id}"`;
}

/** Why a time cannot be restored to, or undefined when it can. */
export function pitrProblem(
  instance: string,
  w: PitrWindow | undefined,
  time: Date,
  nearest?: NearestSnapshots,
  timeZone = 'UTC',
): string | undefined {
  if (!w)
    return `database ${instance}: not found in the source account; expected an existing RDS instance for a point-in-time restore${instead(nearest, timeZone)}`;
  if (!w.latest || !w.earliest)
    return `database ${instance}: automated backups are off; no point-in-time restore is possible (use a snapshot id or "latest")${instead(nearest, timeZone)}`;
  if (time < w.earliest || time > w.latest) {
    return `database ${instance}: ${bothZones(time, timeZone)} is outside the point-in-time window ${bothZones(w.earliest, timeZone)} … ${bothZones(w.latest, timeZone)}${instead(nearest, timeZone)}`;
  }
  return undefined;
}

/** Deterministic names per request, so a resumed request finds its own temporary resources. */
export function temporaryId(requestId: string, source: string): string {
  const clean = `kura-pitr-${requestId.replace(/^rq-/, '')}-${source}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-');
  return clean.slice(0, 63).replace(/-$/, '');
}

function resource(
  type: string,
  id: string,
  account: string,
  region: string,
  cleanup: string,
): CreatedResource {
  return { type, id, account, region, cleanup };
}

export type PitrProgress =
  | { ready: false; stage: string; waitSeconds: number }
  | { ready: true; stage: string; recoveryPoint: RecoveryPointRef };

/**
 * Advances the point-in-time path by one stage. Records the temporary
 * resources on `record` before creating them, so a failure leaves an account.
 */
export async function advancePitr(
  clients: Clients,
  item: PlanItem,
  record: ItemRecord,
  ctx: { requestId: string; reason: string; accountId: string; now: Date },
): Promise<PitrProgress> {
  if (!item.pitr) throw new Error(`item ${item.key} is not a point-in-time restore`);
  const rds = clients.get(RDSClient);
  const region = clients.region;
  const tempId = temporaryId(ctx.requestId, item.source);
  const time = new Date(item.pitr.time);
  const tags = {
    ...managedTags({
      backupClass: 'restore',
      source: item.source,
      time: ctx.now,
      createdBy: PITR_CREATED_BY,
      reason: ctx.reason,
    }),
    [REQUEST_TAG]: ctx.requestId,
  };
  record.temporary ??= [];
  const remember = (r: CreatedResource) => {
    if (!record.temporary?.some((t) => t.type === r.type && t.id === r.id)) record.temporary?.push(r);
  };

  // Stage 1: the temporary instance, restored to the requested time.
  let snapshot = await rds
    .send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: tempId }))
    .then((r) => r.DBSnapshots?.[0])
    .catch((err) => {
      if (isAwsError(err, 'notFound')) return undefined;
      throw err;
    });
  if (!snapshot) {
    const instance = await rds
      .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: tempId }))
      .then((r) => r.DBInstances?.[0])
      .catch((err) => {
        if (isAwsError(err, 'notFound')) return undefined;
        throw err;
      });
    remember(
      resource(
        'AWS::RDS::DBInstance',
        tempId,
        ctx.accountId,
        region,
        `aws rds delete-db-instance --db-instance-identifier ${tempId} --skip-final-snapshot --region ${region}`,
      ),
    );
    if (!instance) {
      const src = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: item.source })))
        .DBInstances?.[0];
      await rds.send(
        new RestoreDBInstanceToPointInTimeCommand({
          SourceDBInstanceIdentifier: item.source,
          TargetDBInstanceIdentifier: tempId,
          RestoreTime: time,
          // Only to take a snapshot from: private, single-AZ, in the source's own subnets.
          PubliclyAccessible: false,
          MultiAZ: false,
          DeletionProtection: false,
          DBSubnetGroupName: src?.DBSubnetGroup?.DBSubnetGroupName,
          CopyTagsToSnapshot: false,
          Tags: toTagList(tags),
        }),
      );
      return { ready: false, stage: 'temporary-instance', waitSeconds: 60 };
    }
    if (!isManaged(fromTagList(instance.TagList))) {
      throw new Error(
        `DB instance ${tempId} exists but is not kura-managed; refusing to use it for a point-in-time restore`,
      );
    }
    if (instance.DBInstanceStatus !== 'available')
      return { ready: false, stage: 'temporary-instance', waitSeconds: 60 };

    // Stage 2: a manual snapshot of it, tagged as a database recovery point of the requested time.
    remember(
      resource(
        'AWS::RDS::DBSnapshot',
        tempId,
        ctx.accountId,
        region,
        `aws rds delete-db-snapshot --db-snapshot-identifier ${tempId} --region ${region}`,
      ),
    );
    const out = await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: tempId,
        DBSnapshotIdentifier: tempId,
        Tags: toTagList({
          ...managedTags({
            backupClass: 'database',
            source: item.source,
            time,
            createdBy: PITR_CREATED_BY,
            reason: ctx.reason,
          }),
          [REQUEST_TAG]: ctx.requestId,
        }),
      }),
    );
    snapshot = out.DBSnapshot;
  }
  if (snapshot?.Status !== 'available') return { ready: false, stage: 'snapshot', waitSeconds: 60 };
  return {
    ready: true,
    stage: 'restore',
    recoveryPoint: {
      class: 'database',
      source: item.source,
      id: tempId,
      time: time.toISOString(),
      region,
      details: {
        arn: snapshot.DBSnapshotArn,
        encrypted: Boolean(snapshot.Encrypted),
        kmsKeyId: snapshot.KmsKeyId,
        engine: snapshot.Engine,
        pointInTime: true,
        [TAG.createdBy]: PITR_CREATED_BY,
      },
    },
  };
}

/** Removes the temporary instance and snapshot; only kura-managed ones, and a missing one is fine. */
export async function cleanupPitr(clients: Clients, record: ItemRecord): Promise<void> {
  const rds = clients.get(RDSClient);
  for (const t of record.temporary ?? []) {
    if (t.removed) continue;
    try {
      if (t.type === 'AWS::RDS::DBSnapshot') {
        const s = (await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: t.id })))
          .DBSnapshots?.[0];
        if (s && isManaged(fromTagList(s.TagList)))
          await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: t.id }));
      } else if (t.type === 'AWS::RDS::DBInstance') {
        const i = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: t.id })))
          .DBInstances?.[0];
        if (i && isManaged(fromTagList(i.TagList))) {
          await rds.send(
            new DeleteDBInstanceCommand({
              DBInstanceIdentifier: t.id,
              SkipFinalSnapshot: true,
              DeleteAutomatedBackups: true,
            }),
          );
        }
      }
      t.removed = true;
    } catch (err) {
      if (!isAwsError(err, 'notFound')) throw err;
      t.removed = true;
    }
  }
}
