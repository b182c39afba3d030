// AWS adapter (database class): how many manual snapshots the account holds
// against its RDS quotas, per kind, in a region; counted when the quota
// cannot be read (the refusal named), so a full quota is seen before a run fails.
import {
  DescribeAccountAttributesCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  RDSClient,
} from '@aws-sdk/client-rds';
import type { Clients } from './clients.ts';
import { describeAwsError, isAwsError } from './errors.ts';
import type { DatabaseKind } from './rds-databases.ts';

export interface SnapshotQuota {
  kind: DatabaseKind;
  used: number;
  max?: number;
  /** Why the quota could not be read (the error, by name). */
  unreadable?: string;
}

/** RDS account quota names (DescribeAccountAttributes) of manual snapshots, per kind. */
const QUOTA_NAMES: Record<DatabaseKind, string> = {
  instance: 'ManualSnapshots',
  cluster: 'ManualClusterSnapshots',
};

export async function snapshotQuotas(clients: Clients, region?: string): Promise<SnapshotQuota[]> {
  let attrs: { AccountQuotaName?: string; Used?: number; Max?: number }[] | undefined;
  let unreadable: string | undefined;
  try {
    attrs = (await clients.get(RDSClient, region).send(new DescribeAccountAttributesCommand({})))
      .AccountQuotas;
  } catch (err) {
    // Refused or throttled: say so by name and count instead; anything else is a fault.
    if (!isAwsError(err, 'accessDenied', 'throttled')) throw err;
    unreadable = describeAwsError(err);
  }
  const out: SnapshotQuota[] = [];
  for (const kind of ['instance', 'cluster'] as const) {
    const q = attrs?.find((a) => a.AccountQuotaName === QUOTA_NAMES[kind]);
    if (q?.Used !== undefined && q.Max !== undefined) out.push({ kind, used: q.Used, max: q.Max });
    else
      out.push({
        kind,
        used: await countManual(clients, kind, region),
        unreadable: unreadable ?? `DescribeAccountAttributes has no ${QUOTA_NAMES[kind]}`,
      });
  }
  return out;
}

async function countManual(clients: Clients, kind: DatabaseKind, region?: string): Promise<number> {
  let n = 0;
  if (kind === 'instance') {
    for await (const page of paginateDescribeDBSnapshots(
      { client: clients.get(RDSClient, region) },
      { SnapshotType: 'manual' },
    ))
      n += page.DBSnapshots?.length ?? 0;
  } else {
    for await (const page of paginateDescribeDBClusterSnapshots(
      { client: clients.get(RDSClient, region) },
      { SnapshotType: 'manual' },
    ))
      n += page.DBClusterSnapshots?.length ?? 0;
  }
  return n;
}
