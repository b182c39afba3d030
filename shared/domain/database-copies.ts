// Domain: the name of the backup account's copy of a source account's
// snapshot. Deterministic (a replayed run finds its own copy) and distinct
// per source account and region: two production accounts may well both have
// a database called `shop`, and the copies all live in one backup account. Pure.
import type { SourceTarget } from './source-target.ts';

/** <source snapshot id>-<account>-<region>, valid as an RDS snapshot identifier. */
export function backupCopyName(sourceSnapshotId: string, target: SourceTarget): string {
  return `${sourceSnapshotId}-${target.account ?? 'own'}-${target.region}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/-$/, '');
}
