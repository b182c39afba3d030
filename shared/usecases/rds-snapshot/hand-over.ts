// Use case (database class, with `sources`): the hand-over of a source
// account's snapshots to the backup account. A snapshot kura took in the
// source account is shared with the backup account once AWS has finished it,
// copied into the backup account by its ARN (re-encrypted with the backup
// account's key, database.kmsKeyId), and deleted in the source once that copy
// is available, but for the newest `database.keepInSource` (fast local
// restores). What the source account's administrator can delete is then only
// the source-side copy: the backup account's copy is out of their reach.
// AWS takes minutes to hours for each step: each run carries on from where the
// last one left off (a snapshot finished after its run is handed over by the next).
import { backupCopyName } from '../../domain/database-copies.ts';
import { type KeyInfo, keyAllowsAccount } from '../../domain/key-access.ts';
import type { SourceTarget } from '../../domain/source-target.ts';
import { isManaged, TAG, type TagMap, taggedTime } from '../../domain/tags.ts';
import type { Snapshot } from '../../aws/rds.ts';
import type { DatabasePolicy } from '../../policy/schema.ts';
import { KuraError } from '../../runtime/errors.ts';
import type { TargetOutcome } from '../../runtime/result.ts';
import type { RdsSnapshotPorts } from '../rds-snapshot.ts';

/** Where the backup account's copies go: kura's own account, in the policy's region. */
export interface BackupAccount {
  ports: RdsSnapshotPorts;
  accountId: string;
  region: string;
}

/**
 * A source snapshot the backup account cannot copy: encrypted with an AWS
 * managed key (aws/rds cannot be shared with another account), or with a
 * customer-managed key whose policy does not let the backup account use it.
 */
export class SourceKeyNotShareableError extends KuraError {
  override name = 'SourceKeyNotShareableError';
}

/** Managed snapshots of this database taken in `target` (its account and region tags say so). */
export function fromTarget(snapshots: Snapshot[], target: SourceTarget): Snapshot[] {
  return snapshots.filter(
    (s) =>
      isManaged(s.tags, 'database') &&
      s.tags[TAG.sourceAccount] === target.account &&
      s.tags[TAG.sourceRegion] === target.region,
  );
}

/** Refuses (named error) a source key the backup account cannot use; the key is read once per run. */
async function checkSourceKey(
  source: RdsSnapshotPorts,
  snap: Snapshot,
  backupAccount: string,
  keys: Map<string, KeyInfo>,
): Promise<void> {
  if (!snap.encrypted || !snap.kmsKeyId) return;
  let key = keys.get(snap.kmsKeyId);
  if (!key) {
    key = await source.keys.describe(snap.kmsKeyId);
    keys.set(snap.kmsKeyId, key);
  }
  if (key.manager === 'AWS')
    throw new SourceKeyNotShareableError(
      `snapshot ${snap.id} is encrypted with the AWS managed key ${key.arn}, which cannot be shared with the backup account ${backupAccount}; encrypt the database with a customer-managed key whose key policy lets account ${backupAccount} use it (docs/deploy.md)`,
    );
  if (!keyAllowsAccount(key, backupAccount))
    throw new SourceKeyNotShareableError(
      `snapshot ${snap.id} is encrypted with ${key.arn}, whose key policy does not name the backup account ${backupAccount}; expected a statement allowing arn:aws:iam::${backupAccount}:root kms:DescribeKey, kms:Decrypt, kms:ReEncrypt*, kms:CreateGrant (docs/deploy.md)`,
    );
}

/**
 * Shares and copies into the backup account every available source snapshot
 * within retention that has no copy there yet; returns the copies' ids.
 */
export async function copyIntoBackupAccount(
  source: RdsSnapshotPorts,
  backup: BackupAccount,
  target: SourceTarget,
  kept: Snapshot[],
  copies: Snapshot[],
  cfg: DatabasePolicy,
  createdBy: string,
  outcome: TargetOutcome,
): Promise<string[]> {
  const existing = new Set(copies.map((s) => s.id));
  const keys = new Map<string, KeyInfo>();
  const copied: string[] = [];
  for (const s of kept) {
    const name = backupCopyName(s.id, target, s.kind);
    if (existing.has(name)) continue;
    await checkSourceKey(source, s, backup.accountId, keys);
    // A shared encrypted snapshot is copied only with a key of the copying account (CopyDBSnapshot
    // KmsKeyId); an unencrypted cluster snapshot cannot be encrypted by its copy (CopyDBClusterSnapshot).
    const kmsKeyId = s.encrypted || s.kind === 'instance' ? cfg.kmsKeyId : undefined;
    if (s.encrypted && !kmsKeyId)
      throw new Error(
        `snapshot ${s.id} is encrypted: database.kmsKeyId must name a key of the backup account ${backup.accountId} in ${backup.region} to re-encrypt its copy`,
      );
    if (!(await source.db.sharedWith(s)).includes(backup.accountId)) {
      await source.db.shareSnapshot(s, backup.accountId);
      outcome.actions.push(`shared ${s.id} with the backup account ${backup.accountId}`);
    }
    const tags: TagMap = {
      ...s.tags,
      [TAG.createdBy]: createdBy,
      [TAG.copyOf]: `${target.account}:${target.region}:${s.id}`,
    };
    await backup.ports.db.copySnapshot(s, backup.region, name, tags, kmsKeyId);
    copied.push(name);
    outcome.actions.push(`copied ${s.id} into the backup account as ${name}`);
  }
  return copied;
}

/**
 * Deletes the source-side snapshots whose copy in the backup account is
 * available, but for the newest `keepInSource` available ones; never one
 * without a verified copy, never one kura does not manage. Returns their ids.
 */
export async function releaseHandedOver(
  source: RdsSnapshotPorts,
  target: SourceTarget,
  snapshots: Snapshot[],
  copies: Snapshot[],
  keepInSource: number,
  outcome: TargetOutcome,
): Promise<string[]> {
  const copied = new Set(copies.filter((c) => c.status === 'available').map((c) => c.tags[TAG.copyOf]));
  const available = fromTarget(snapshots, target)
    .filter((s) => s.status === 'available' && taggedTime(s.tags))
    .sort((a, b) => (taggedTime(b.tags)?.getTime() ?? 0) - (taggedTime(a.tags)?.getTime() ?? 0));
  const released: string[] = [];
  for (const s of available.slice(keepInSource)) {
    if (!copied.has(`${target.account}:${target.region}:${s.id}`)) continue;
    await source.db.deleteSnapshot(s);
    released.push(s.id);
    outcome.actions.push(
      `deleted ${s.id} in the source account: its copy in the backup account is available`,
    );
  }
  return released;
}
