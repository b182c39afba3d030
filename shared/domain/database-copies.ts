// Domain: the name of the backup account's copy of a source account's
// snapshot. Deterministic (a replayed run finds its own copy) and distinct
// per source account and region: two production accounts may well both have
// a database called `shop`, and the copies all live in one backup account. Pure.
import { IDENTIFIER_LIMIT, identifierPart, shortened } from './naming.ts';
import type { SourceTarget } from './source-target.ts';

/**
 * <source snapshot id>-<account>-<region>, valid as an RDS snapshot identifier
 * of its kind: a cluster snapshot's id holds 63 characters, so a long source
 * id is shortened (with a digest) before its time stamp, and the stamp, the
 * account and the region are always kept.
 */
export function backupCopyName(
  sourceSnapshotId: string,
  target: SourceTarget,
  kind: 'instance' | 'cluster' = 'instance',
): string {
  // The source's time stamp stays readable at the end of what is kept (kura-<db>-<yyyymmddHHMM>).
  const id = identifierPart(sourceSnapshotId);
  const [, head = id, time = ''] = /^(.*?)(-\d{12})?$/.exec(id) ?? [];
  const suffix = `${time}-${identifierPart(`${target.account ?? 'own'}-${target.region}`)}`;
  return `${shortened(head, IDENTIFIER_LIMIT[kind] - suffix.length)}${suffix}`;
}
