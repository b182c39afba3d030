// Use case (database class): the manual snapshot quotas of each account and
// region that holds kura's snapshots, as metrics, with a warning near the limit.
import type { SourceTarget } from '../../domain/source-target.ts';
import type { DatabasePolicy } from '../../policy/schema.ts';
import type { RunResult } from '../../runtime/result.ts';
import type { RdsSnapshotPorts } from '../rds-snapshot.ts';

const QUOTA_WARN_RATIO = 0.9;

/**
 * Manual snapshot quotas are per account, region and kind (instance,
 * cluster): the source region and the DR region each hold a full set.
 */
export async function checkQuotas(
  ports: RdsSnapshotPorts,
  cfg: DatabasePolicy,
  target: SourceTarget,
  only: string[] | undefined,
  result: RunResult,
  quotas: { region: string; kind: string; used: number; quota: number; account?: string }[],
): Promise<void> {
  const where = (region: string) => (target.account ? `${region} of account ${target.account}` : region);
  const regions = only ?? [...new Set([target.region, ...(cfg.copy ? [cfg.copy.region] : [])])];
  for (const region of regions) {
    for (const q of await ports.db.snapshotQuotas(region)) {
      const quota = q.max ?? cfg.snapshotQuota;
      if (q.unreadable)
        result.warnings.push(
          `manual ${q.kind} snapshot quota in ${where(region)} could not be read (${q.unreadable}); assumed ${quota} (database.snapshotQuota)`,
        );
      quotas.push({
        region,
        kind: q.kind,
        used: q.used,
        quota,
        ...(target.account ? { account: target.account } : {}),
      });
      result.metrics.push({
        name: 'ManualSnapshotQuotaUsed',
        value: quota > 0 ? Math.round((q.used / quota) * 100) : 100,
        unit: 'Percent',
        dimensions: { region, kind: q.kind, ...(target.account ? { account: target.account } : {}) },
      });
      if (q.used >= quota * QUOTA_WARN_RATIO) {
        result.warnings.push(
          `manual ${q.kind} snapshots: ${q.used} of the quota of ${quota} in ${where(region)}; raise the quota or lower retention`,
        );
      }
    }
  }
}
