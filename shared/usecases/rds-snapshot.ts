// Use case (database class): one manual snapshot per tagged database per
// scheduled time, point-in-time-restore checks, a copy to the DR region,
// sharing with the isolated account, and pruning that never goes below the
// minimum generations or touches what kura does not manage. With `sources`,
// the same in every source account and region (one set of ports each); a
// source that cannot be reached fails its own target, never the others. With
// `sources`, the snapshots are handed over to the backup account
// (rds-snapshot/hand-over.ts): DR copies, sharing with the isolated account
// and pruning act on the backup account's copies.

import type { KeyPort } from '../aws/kms.ts';
import type { Database, DatabasePort, Snapshot } from '../aws/rds.ts';
import { keyAllowsAccount } from '../domain/key-access.ts';
import { type SourceTarget, targetLabel } from '../domain/source-target.ts';
import { IDENTIFIER_LIMIT, recoveryPointName } from '../domain/naming.ts';
import { pitrFindings } from '../domain/pitr.ts';
import { isSelected } from '../domain/selection.ts';
import type { PointState, ProgressRule } from '../domain/progress.ts';
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
import { checkProgress, combinedFailure } from './progress.ts';
import {
  type BackupAccount,
  copyIntoBackupAccount,
  fromTarget,
  releaseHandedOver,
} from './rds-snapshot/hand-over.ts';
import { checkQuotas } from './rds-snapshot/quotas.ts';

export type { BackupAccount } from './rds-snapshot/hand-over.ts';
export { SourceKeyNotShareableError } from './rds-snapshot/hand-over.ts';

export const FUNCTION_NAME = 'rds-snapshot';

export interface RdsSnapshotPorts {
  db: DatabasePort;
  keys: KeyPort;
}

/** One source account and region with the ports acting there. */
export interface RdsSource {
  target: SourceTarget;
  ports: RdsSnapshotPorts;
}

export function selected(db: Database, policy: Policy): boolean {
  return isSelected(db.tags, policy);
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

function progressRule(policy: Policy, cfg: DatabasePolicy): ProgressRule {
  return {
    stuckAfterHours: cfg.stuckAfterHours,
    schedule: policy.schedules['rds-snapshot'],
    timeZone: policy.timezone,
  };
}

/** Managed snapshots AWS has not finished, or that failed (a DR copy counts from when it was copied). */
function progressOf(snapshots: Snapshot[]): PointState[] {
  return snapshots.flatMap((s) => {
    const time = s.createdAt ?? taggedTime(s.tags);
    return isManaged(s.tags, 'database') && time ? [{ id: s.id, status: s.status, time }] : [];
  });
}

async function prune(
  ports: RdsSnapshotPorts,
  snapshots: Snapshot[],
  cfg: DatabasePolicy,
  now: Date,
  outcome: TargetOutcome,
  region?: string,
): Promise<string[]> {
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

/** Managed, available and within retention: what is copied and shared. */
function keptAvailable(snapshots: Snapshot[], cfg: DatabasePolicy, now: Date): Snapshot[] {
  const cutoff = now.getTime() - cfg.retainDays * 86_400_000;
  return snapshots.filter((s) => {
    const time = taggedTime(s.tags);
    return isManaged(s.tags, 'database') && s.status === 'available' && time && time.getTime() >= cutoff;
  });
}

async function copyToDr(
  ports: RdsSnapshotPorts,
  kept: Snapshot[],
  copies: Snapshot[],
  cfg: DatabasePolicy,
  sourceRegion: string,
  outcome: TargetOutcome,
): Promise<string[]> {
  const copy = cfg.copy;
  if (!copy) return [];
  const existing = new Set(copies.map((s) => s.id));
  const copied: string[] = [];
  // Catch up every available snapshot still within retention that has no copy
  // yet: a snapshot AWS finished after its own run is copied by the next one.
  for (const s of kept) {
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

/** Shares every kept snapshot the isolated account cannot see yet; returns those newly shared. */
async function shareKept(
  ports: RdsSnapshotPorts,
  kept: Snapshot[],
  accountId: string,
  outcome: TargetOutcome,
): Promise<string[]> {
  const shared: string[] = [];
  const keys = new Map<string, Awaited<ReturnType<KeyPort['describe']>>>();
  for (const snap of kept) {
    if ((await ports.db.sharedWith(snap)).includes(accountId)) continue;
    if (snap.encrypted && snap.kmsKeyId) {
      let key = keys.get(snap.kmsKeyId);
      if (!key) {
        key = await ports.keys.describe(snap.kmsKeyId);
        keys.set(snap.kmsKeyId, key);
      }
      if (key.manager === 'AWS') {
        throw new Error(
          `snapshot ${snap.id} is encrypted with an AWS managed key (${key.arn}), which cannot be shared; encrypt the database with a customer-managed key`,
        );
      }
      if (!keyAllowsAccount(key, accountId)) {
        outcome.warnings.push(
          `key ${key.arn} does not allow account ${accountId}: it can see ${snap.id} but not copy or restore it until the key policy grants it`,
        );
      }
    }
    await ports.db.shareSnapshot(snap, accountId);
    shared.push(snap.id);
    outcome.actions.push(`shared ${snap.id} with ${accountId}`);
  }
  return shared;
}

async function backupOne(
  ports: RdsSnapshotPorts,
  db: Database,
  policy: Policy,
  cfg: DatabasePolicy,
  now: Date,
  outcome: TargetOutcome,
  metrics: MetricPoint[],
  source: SourceTarget,
  backup?: BackupAccount,
) {
  if (source.account) {
    outcome.account = source.account;
    outcome.region = source.region;
  }
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

  const name = recoveryPointName(db.id, now, IDENTIFIER_LIMIT[db.kind]);
  let snap = await ports.db.getSnapshot(db.kind, name);
  if (snap && !isManaged(snap.tags)) {
    throw new Error(`snapshot ${name} exists but is not kura-managed; refusing to adopt or replace it`);
  }
  if (snap) {
    outcome.actions.push(`snapshot ${name} already exists (replayed event): nothing new taken`);
  } else {
    const tags = {
      ...copiedTags(db.tags, cfg.copyTags),
      ...managedTags({
        backupClass: 'database',
        source: db.id,
        time: now,
        createdBy: FUNCTION_NAME,
        account: source.account,
        region: source.region,
      }),
    };
    snap = await ports.db.createSnapshot(db, name, tags);
    outcome.actions.push(`created ${name}`);
    metrics.push({ name: 'SnapshotsCreated', value: 1, unit: 'Count', dimensions: { database: db.id } });
  }
  outcome.snapshot = name;
  outcome.snapshotStatus = snap.status;
  if (snap.status !== 'available') {
    // AWS takes minutes to hours: the next run copies, shares and prunes it.
    outcome.actions.push(`${name} is ${snap.status}: its DR copy and share follow in the next run`);
  }

  // Every earlier step whose snapshot AWS has finished since is completed now.
  const rule = progressRule(policy, cfg);
  let snapshots = await ports.db.listSnapshots(db.kind, db.id);
  const failures: Error[] = [];
  // Where the recovery points kura keeps live: the source account's own
  // snapshots in single-account mode, else the backup account's copies of them.
  let keeper = ports;
  let region: string | undefined;
  let ours = (list: Snapshot[]) => list;
  if (backup && source.account) {
    const inSource = fromTarget(snapshots, source);
    failures.push(...checkProgress(progressOf(inSource), now, rule, outcome, ' in the source account'));
    keeper = backup.ports;
    region = backup.region;
    ours = (list) => fromTarget(list, source);
    let copies = ours(await keeper.db.listSnapshots(db.kind, db.id, region));
    const fresh = keptAvailable(inSource, cfg, now);
    const handedOver = await copyIntoBackupAccount(
      ports,
      backup,
      source,
      fresh,
      copies,
      cfg,
      FUNCTION_NAME,
      outcome,
    );
    outcome.handedOver = handedOver;
    if (handedOver.length) copies = ours(await keeper.db.listSnapshots(db.kind, db.id, region));
    outcome.releasedInSource = await releaseHandedOver(
      ports,
      source,
      inSource,
      copies,
      cfg.keepInSource,
      outcome,
    );
    snapshots = copies;
  }
  failures.push(...checkProgress(progressOf(snapshots), now, rule, outcome, ''));
  const pruned = await prune(keeper, snapshots, cfg, now, outcome, region);
  const kept = keptAvailable(
    snapshots.filter((s) => !pruned.includes(s.id)),
    cfg,
    now,
  );
  if (cfg.copy) {
    const copies = ours(await keeper.db.listSnapshots(db.kind, db.id, cfg.copy.region));
    outcome.copied = await copyToDr(keeper, kept, copies, cfg, region ?? source.region, outcome);
    failures.push(...checkProgress(progressOf(copies), now, rule, outcome, ` in ${cfg.copy.region}`));
    pruned.push(...(await prune(keeper, copies, cfg, now, outcome, cfg.copy.region)));
  } else outcome.copied = [];
  outcome.shared =
    cfg.shareWithIsolatedAccount && policy.isolatedAccount
      ? await shareKept(keeper, kept, policy.isolatedAccount.accountId, outcome)
      : [];
  outcome.pruned = pruned;
  metrics.push({
    name: 'SnapshotsPruned',
    value: pruned.length,
    unit: 'Count',
    dimensions: { database: db.id },
  });
  // Everything else was done first; the error names what is stuck or failed.
  const failure = combinedFailure(failures);
  if (failure) throw failure;
}

/**
 * `backup`: the backup account's ports; with source targets (an account each),
 * their snapshots are handed over to it and kept there.
 */
export async function rdsSnapshot(
  now: Date,
  policy: Policy,
  ports: RdsSnapshotPorts | RdsSource[],
  backup?: BackupAccount,
): Promise<RunResult> {
  const result = newRunResult(FUNCTION_NAME, now);
  const cfg = policy.database;
  if (!cfg) {
    result.warnings.push('the policy has no database section: nothing to do');
    return result;
  }
  const sources = Array.isArray(ports) ? ports : [{ target: { region: policy.region }, ports }];
  const skipped: string[] = [];
  const quotas: { region: string; kind: string; used: number; quota: number; account?: string }[] = [];
  for (const { target, ports: p } of sources) {
    const label = targetLabel(target);
    // Targets are the databases' ids in single-account mode (as before sources existed), else <account>/<region>/<id>.
    const named = (id: string) => (label ? `${label}/${id}` : id);
    let all: Database[];
    try {
      all = await p.db.listDatabases();
    } catch (err) {
      // An unreachable source (its role refused, its region down) fails itself, not the others.
      result.targets.push(
        ...(await forEachTarget(
          [target],
          () => named('*'),
          async () => {
            throw err;
          },
        )),
      );
      continue;
    }
    const targets = all.filter((d) => selected(d, policy));
    skipped.push(...all.filter((d) => !selected(d, policy)).map((d) => named(d.id)));
    result.targets.push(
      ...(await forEachTarget(
        targets,
        (d) => named(d.id),
        (d, outcome) => backupOne(p, d, policy, cfg, now, outcome, result.metrics, target, backup),
      )),
    );
    const handedOver = Boolean(backup && target.account);
    await checkQuotas(p, cfg, target, handedOver ? [target.region] : undefined, result, quotas);
  }
  // The backup account holds the copies (and their DR copies): its quotas count too.
  if (backup && sources.some((s) => s.target.account))
    await checkQuotas(backup.ports, cfg, { region: backup.region }, undefined, result, quotas);
  result.skipped = skipped;
  result.manualSnapshots = quotas;
  const failed = result.targets.filter((t) => t.status === 'failed');
  result.ok = failed.length === 0;
  result.metrics.push({ name: 'TargetFailures', value: failed.length, unit: 'Count' });
  return result;
}
