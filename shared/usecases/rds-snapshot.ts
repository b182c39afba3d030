// Use case (database class): one manual snapshot per tagged database per
// scheduled time, point-in-time-restore checks, a copy to the DR region,
// sharing with the isolated account, and pruning that never goes below the
// minimum generations or touches what kura does not manage.

import type { KeyPort } from '../aws/kms.ts';
import { keyAllowsAccount } from '../aws/kms.ts';
import type { Database, DatabasePort, Snapshot } from '../aws/rds.ts';
import { recoveryPointName } from '../domain/naming.ts';
import { pitrFindings } from '../domain/pitr.ts';
import { planPruning, type RecoveryPoint } from '../domain/retention.ts';
import { copiedTags, isManaged, managedTags, TAG, taggedTime } from '../domain/tags.ts';
import type { DatabasePolicy, Policy } from '../policy/schema.ts';
import {
  forEachTarget,
  type MetricPoint,
  newRunResult,
  type RunResult,
  type TargetOutcome,
} from '../runtime/result.ts';

export const FUNCTION_NAME = 'rds-snapshot';
const QUOTA_WARN_RATIO = 0.9;

export interface RdsSnapshotPorts {
  db: DatabasePort;
  keys: KeyPort;
}

export function selected(db: Database, policy: Policy): boolean {
  return db.tags[policy.selector.tagKey] === policy.selector.tagValue;
}

function toRecoveryPoint(s: Snapshot): RecoveryPoint {
  const time = taggedTime(s.tags);
  return {
    id: s.id,
    // A managed snapshot without a readable time is kept (treated as new).
    time: time ?? new Date(8.64e15),
    managed: isManaged(s.tags, 'database') && time !== undefined,
    complete: s.status === 'available',
    validated: Boolean(s.tags[TAG.validated]),
  };
}

async function prune(
  ports: RdsSnapshotPorts,
  db: Database,
  cfg: DatabasePolicy,
  now: Date,
  outcome: TargetOutcome,
  region?: string,
): Promise<string[]> {
  const snapshots = await ports.db.listSnapshots(db.kind, db.id, region);
  const plan = planPruning(
    snapshots.map(toRecoveryPoint),
    { retainDays: cfg.retainDays, minGenerations: cfg.minGenerations },
    now,
  );
  const pruned: string[] = [];
  for (const d of plan.prune) {
    const snap = snapshots.find((s) => s.id === d.id);
    // Belt and braces: the plan only prunes managed points; re-check the tags we act on.
    if (!snap || !isManaged(snap.tags, 'database')) continue;
    await ports.db.deleteSnapshot(snap, region);
    pruned.push(snap.id);
    outcome.actions.push(`pruned ${snap.id}${region ? ` in ${region}` : ''} (${d.reason})`);
  }
  return pruned;
}

async function copyToDr(
  ports: RdsSnapshotPorts,
  db: Database,
  cfg: DatabasePolicy,
  sourceRegion: string,
  now: Date,
  outcome: TargetOutcome,
): Promise<string[]> {
  const copy = cfg.copy;
  if (!copy) return [];
  const cutoff = now.getTime() - cfg.retainDays * 86_400_000;
  const existing = new Set((await ports.db.listSnapshots(db.kind, db.id, copy.region)).map((s) => s.id));
  const copied: string[] = [];
  // Catch up every managed, available snapshot still within retention that
  // has no copy yet: a copy missed on one day is made on the next.
  for (const s of await ports.db.listSnapshots(db.kind, db.id)) {
    const time = taggedTime(s.tags);
    if (!isManaged(s.tags, 'database') || s.status !== 'available' || !time || time.getTime() < cutoff)
      continue;
    if (existing.has(s.id)) continue;
    if (s.encrypted && !copy.kmsKeyId) {
      throw new Error(
        `snapshot ${s.id} is encrypted: database.copy.kmsKeyId must name a key in ${copy.region} to re-encrypt the copy`,
      );
    }
    await ports.db.copySnapshot(
      s,
      copy.region,
      s.id,
      { ...s.tags, [TAG.copyOf]: `${sourceRegion}:${s.id}` },
      s.encrypted ? copy.kmsKeyId : undefined,
    );
    copied.push(s.id);
    outcome.actions.push(`copied ${s.id} to ${copy.region}`);
  }
  return copied;
}

async function share(
  ports: RdsSnapshotPorts,
  snap: Snapshot,
  accountId: string,
  outcome: TargetOutcome,
): Promise<void> {
  if (snap.encrypted && snap.kmsKeyId) {
    const key = await ports.keys.describe(snap.kmsKeyId);
    if (key.manager === 'AWS') {
      throw new Error(
        `snapshot ${snap.id} is encrypted with an AWS managed key (${key.arn}), which cannot be shared; encrypt the database with a customer-managed key`,
      );
    }
    if (!keyAllowsAccount(key, accountId)) {
      outcome.warnings.push(
        `key ${key.arn} does not allow account ${accountId}: it can see the snapshot but not copy or restore it until the key policy grants it`,
      );
    }
  }
  await ports.db.shareSnapshot(snap, accountId);
  outcome.actions.push(`shared ${snap.id} with ${accountId}`);
}

async function backupOne(
  ports: RdsSnapshotPorts,
  db: Database,
  policy: Policy,
  cfg: DatabasePolicy,
  now: Date,
  outcome: TargetOutcome,
  metrics: MetricPoint[],
) {
  outcome.kind = db.kind;
  outcome.engine = db.engine;
  for (const f of pitrFindings(db, cfg, now)) {
    metrics.push({
      name: 'PitrViolation',
      value: 1,
      unit: 'Count',
      dimensions: { database: db.id, kind: f.kind },
    });
    if (f.kind === 'retention' && cfg.enforceBackupRetention) {
      await ports.db.setBackupRetention(db, cfg.retainDays);
      outcome.actions.push(
        `set automated backup retention to ${cfg.retainDays} days (policy enforceBackupRetention)`,
      );
    } else {
      outcome.warnings.push(`PITR: ${f.message}`);
    }
  }

  const name = recoveryPointName(db.id, now);
  let snap = await ports.db.getSnapshot(db.kind, name);
  if (snap && !isManaged(snap.tags)) {
    throw new Error(`snapshot ${name} exists but is not kura-managed; refusing to adopt or replace it`);
  }
  if (snap) {
    outcome.actions.push(`snapshot ${name} already exists (replayed event): nothing new taken`);
  } else {
    const tags = {
      ...copiedTags(db.tags, cfg.copyTags),
      ...managedTags({ backupClass: 'database', source: db.id, time: now, createdBy: FUNCTION_NAME }),
    };
    snap = await ports.db.createSnapshot(db, name, tags);
    outcome.actions.push(`created ${name}`);
    metrics.push({ name: 'SnapshotsCreated', value: 1, unit: 'Count', dimensions: { database: db.id } });
  }
  outcome.snapshot = name;
  outcome.snapshotStatus = snap.status;

  if (snap.status !== 'available') {
    // Nothing is deleted until its replacement is verified; the next run catches up.
    outcome.warnings.push(
      `snapshot ${name} is ${snap.status}: DR copy, sharing and pruning wait for the next run`,
    );
    return;
  }
  outcome.copied = await copyToDr(ports, db, cfg, policy.region, now, outcome);
  if (cfg.shareWithIsolatedAccount && policy.isolatedAccount)
    await share(ports, snap, policy.isolatedAccount.accountId, outcome);
  const pruned = await prune(ports, db, cfg, now, outcome);
  if (cfg.copy) pruned.push(...(await prune(ports, db, cfg, now, outcome, cfg.copy.region)));
  outcome.pruned = pruned;
  metrics.push({
    name: 'SnapshotsPruned',
    value: pruned.length,
    unit: 'Count',
    dimensions: { database: db.id },
  });
}

export async function rdsSnapshot(now: Date, policy: Policy, ports: RdsSnapshotPorts): Promise<RunResult> {
  const result = newRunResult(FUNCTION_NAME, now);
  const cfg = policy.database;
  if (!cfg) {
    result.warnings.push('the policy has no database section: nothing to do');
    return result;
  }
  const all = await ports.db.listDatabases();
  const targets = all.filter((d) => selected(d, policy));
  result.skipped = all.filter((d) => !selected(d, policy)).map((d) => d.id);
  result.targets = await forEachTarget(
    targets,
    (d) => d.id,
    (d, outcome) => backupOne(ports, d, policy, cfg, now, outcome, result.metrics),
  );

  const used = await ports.db.countManualSnapshots();
  result.manualSnapshots = { used, quota: cfg.snapshotQuota };
  result.metrics.push({
    name: 'ManualSnapshotQuotaUsed',
    value: Math.round((used / cfg.snapshotQuota) * 100),
    unit: 'Percent',
  });
  if (used >= cfg.snapshotQuota * QUOTA_WARN_RATIO) {
    result.warnings.push(
      `manual snapshots: ${used} of the quota of ${cfg.snapshotQuota} in ${policy.region}; raise the quota or lower retention`,
    );
  }
  const failed = result.targets.filter((t) => t.status === 'failed');
  result.ok = failed.length === 0;
  result.metrics.push({ name: 'TargetFailures', value: failed.length, unit: 'Count' });
  return result;
}
