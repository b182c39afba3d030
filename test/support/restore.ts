// Test support (orchestrated restore): a policy with its own vault, a tagged
// database with kura snapshots at known times, and views of what exists in
// either account (to prove that a refused request created nothing).

import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { rdsSnapshot } from './functions.ts';
import { ensureVault } from '../../local/vault.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { clock, testPolicy, uniqueSuffix } from './emulator.ts';
import { createDatabase } from './rds.ts';

export const ISOLATED_ROLE = 'arn:aws:iam::210987654321:role/kura-restore';

/** The reference policy with a vault of its own (restores/<id>/ never collide between files). */
export async function restorePolicy(
  clients: Clients,
  overrides: (p: Policy) => void = () => {},
): Promise<Policy> {
  const policy = testPolicy((p) => {
    p.vault.bucket = `kura-vault-rs-${uniqueSuffix()}`;
    if (p.database) {
      p.database.copy = undefined;
      p.database.shareWithIsolatedAccount = false;
    }
    if (p.images) p.images.copyToDrRegion = false;
    overrides(p);
  });
  await ensureVault(clients, policy);
  return policy;
}

/**
 * A tagged MySQL database with one kura snapshot per given time (through the
 * real rds-snapshot handler, each run at its time on the file's clock, which is left at the last).
 */
export async function databaseWithSnapshots(
  deps: Deps,
  times: Date[],
  id = `shop-${uniqueSuffix()}`,
): Promise<string> {
  const sel = deps.policy.selector;
  await createDatabase(deps.clients, id, { [sel.tagKey]: sel.tagValue });
  for (const t of times) {
    clock.set(t);
    await rdsSnapshot(syntheticScheduledEvent(t), deps);
  }
  return id;
}

export interface AccountView {
  dbInstances: string[];
  dbSnapshots: string[];
  ec2Instances: string[];
}

/**
 * What exists in an account (DB instances, manual snapshots, instances not
 * terminated) whose name or tags mention `about` (test files share one moto).
 */
export async function accountView(clients: Clients, about = ''): Promise<AccountView> {
  const rds = clients.get(RDSClient);
  const ec2 = clients.get(EC2Client);
  const dbs = await rds.send(new DescribeDBInstancesCommand({}));
  const snaps = await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }));
  const inst = await ec2.send(new DescribeInstancesCommand({}));
  return {
    dbInstances: (dbs.DBInstances ?? [])
      .map((d) => d.DBInstanceIdentifier ?? '')
      .filter((n) => n.includes(about))
      .sort(),
    dbSnapshots: (snaps.DBSnapshots ?? [])
      .map((s) => s.DBSnapshotIdentifier ?? '')
      .filter((n) => n.includes(about))
      .sort(),
    ec2Instances: (inst.Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .filter((i) => i.State?.Name !== 'terminated' && JSON.stringify(i.Tags ?? []).includes(about))
      .map((i) => i.InstanceId ?? '')
      .sort(),
  };
}

export async function restoreKeys(clients: Clients, bucket: string): Promise<string[]> {
  const r = await clients
    .get(S3Client)
    .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'restores/' }));
  return (r.Contents ?? []).map((o) => o.Key ?? '');
}

/**
 * Calls a restore step again while it says NotReadyError, as the state
 * machine's retries would: each attempt's in-process wait moves the file's
 * simulated clock, so AWS's copies and restores finish after a few attempts.
 */
export async function untilReady<T>(attempt: () => Promise<T>, maxAttempts = 40): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if ((err as Error).name !== 'NotReadyError' || i >= maxAttempts) throw err;
    }
  }
}
