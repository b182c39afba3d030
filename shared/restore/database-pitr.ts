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
import type { RdsPitrPort } from '../aws/rds-pitr.ts';
import { isManaged, managedTags, TAG } from '../domain/tags.ts';
import { bothZones } from '../policy/calendar.ts';
import type { ItemRecord, PlanItem } from './plan.ts';
import type { CreatedResource, RecoveryPointRef } from './types.ts';

export type { PitrWindow } from '../aws/rds-pitr.ts';
import type { PitrWindow } from '../aws/rds-pitr.ts';

export const PITR_CREATED_BY = 'restore-pitr';
export const REQUEST_TAG = 'kura:restore-request';

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
  rds: RdsPitrPort,
  item: PlanItem,
  record: ItemRecord,
  ctx: { requestId: string; reason: string; accountId: string; now: Date },
): Promise<PitrProgress> {
  if (!item.pitr) throw new Error(`item ${item.key} is not a point-in-time restore`);
  const region = rds.region;
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
  let snapshot = await rds.getSnapshot('instance', tempId);
  if (!snapshot) {
    const instance = await rds.getInstance(tempId);
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
      // Only to take a snapshot from: private, single-AZ, in the source's own subnets.
      await rds.restoreToPointInTime({
        source: item.source,
        target: tempId,
        time,
        subnetGroup: await rds.subnetGroupOf(item.source),
        tags,
      });
      return { ready: false, stage: 'temporary-instance', waitSeconds: 60 };
    }
    if (!isManaged(instance.tags)) {
      throw new Error(
        `DB instance ${tempId} exists but is not kura-managed; refusing to use it for a point-in-time restore`,
      );
    }
    if (instance.status !== 'available')
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
    snapshot = await rds.createInstanceSnapshot(tempId, tempId, {
      ...managedTags({
        backupClass: 'database',
        source: item.source,
        time,
        createdBy: PITR_CREATED_BY,
        reason: ctx.reason,
      }),
      [REQUEST_TAG]: ctx.requestId,
    });
  }
  if (snapshot.status !== 'available') return { ready: false, stage: 'snapshot', waitSeconds: 60 };
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
        arn: snapshot.arn,
        encrypted: snapshot.encrypted,
        kmsKeyId: snapshot.kmsKeyId,
        engine: snapshot.engine,
        pointInTime: true,
        [TAG.createdBy]: PITR_CREATED_BY,
      },
    },
  };
}

/** Removes the temporary instance and snapshot; only kura-managed ones, and a missing one is fine. */
export async function cleanupPitr(rds: RdsPitrPort, record: ItemRecord): Promise<void> {
  for (const t of record.temporary ?? []) {
    if (t.removed) continue;
    if (t.type === 'AWS::RDS::DBSnapshot') {
      const s = await rds.getSnapshot('instance', t.id);
      if (s && isManaged(s.tags)) await rds.deleteSnapshot('instance', t.id);
    } else if (t.type === 'AWS::RDS::DBInstance') {
      const i = await rds.getInstance(t.id);
      if (i && isManaged(i.tags)) await rds.deleteInstance(t.id, { deleteAutomatedBackups: true });
    }
    t.removed = true;
  }
}
