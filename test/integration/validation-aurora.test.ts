// Integration: the validation state machine with an Aurora cluster (and an
// RDS instance beside it): the cluster's kura-managed snapshot is shared,
// copied re-encrypted into the isolated account, restored as a cluster with a
// writer, checked, cleaned up, tagged kura:validated, and the share with the
// isolated account is removed again afterwards.
import {
  CreateDBClusterCommand,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runStateMachine } from '../../local/state-machine-runner.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { VaultStore } from '../../shared/aws/vault-objects.ts';
import { fromTagList, TAG } from '../../shared/domain/tags.ts';
import type { ValidationReport } from '../../shared/domain/validation-report.ts';
import { connectIsolated, prepareIsolatedTarget } from '../../shared/restore/isolated-network.ts';
import { listManagedInIsolated } from '../../shared/aws/isolated-leftovers.ts';
import { reportKey } from '../../shared/usecases/validation.ts';
import { clock, uniqueSuffix } from '../support/emulator.ts';
import { untilReady } from '../support/restore.ts';
import { asValidationRestore } from '../support/functions.ts';
import { databaseWithSnapshot, validationDeps, validationPolicy } from '../support/validation-fixture.ts';
import { databaseRestoreStep } from '../../shared/edge/restore-steps.ts';
import { awsTargetInfra } from '../../shared/aws/restore-ports.ts';

const SNAPSHOT_TIME = new Date('2026-10-31T19:00:00Z');
const RUN_TIME = new Date('2026-11-01T00:00:00Z');

async function auroraWithSnapshot(deps: Deps, name: string): Promise<void> {
  const sel = deps.policy.selector;
  await deps.clients.get(RDSClient).send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: name,
      Engine: 'aurora-mysql',
      EngineVersion: '8.0.mysql_aurora.3.05.2',
      MasterUsername: 'admin',
      MasterUserPassword: 'source-password-1',
      BackupRetentionPeriod: 7,
      Tags: [{ Key: sel.tagKey, Value: sel.tagValue }],
    }),
  );
}

async function restoreSharedWith(deps: Deps, kind: 'instance' | 'cluster', id: string): Promise<string[]> {
  const rds = deps.clients.get(RDSClient);
  if (kind === 'instance') {
    const r = await rds.send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: id }));
    return (
      r.DBSnapshotAttributesResult?.DBSnapshotAttributes?.find((a) => a.AttributeName === 'restore')
        ?.AttributeValues ?? []
    );
  }
  const r = await rds.send(
    new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: id }),
  );
  return (
    r.DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes?.find(
      (a) => a.AttributeName === 'restore',
    )?.AttributeValues ?? []
  );
}

describe('validation of an Aurora cluster', () => {
  let deps: Deps & { topicArn: string };
  const cluster = `aurora-${uniqueSuffix()}`;
  const instance = `mysql-${uniqueSuffix()}`;

  beforeAll(async () => {
    deps = await validationDeps(
      validationPolicy((p) => {
        p.validation = {
          rto: { dataMinutes: 30, systemMinutes: 180, logsMinutes: 30 },
          contentSample: 50,
          sqlProbes: [],
        };
      }),
    );
    await auroraWithSnapshot(deps, cluster);
    // databaseWithSnapshot snapshots every selected database, the cluster included.
    await databaseWithSnapshot(deps, instance, SNAPSHOT_TIME);
  });

  beforeEach(() => clock.set(RUN_TIME));

  it('restores, checks and cleans up the cluster, tags its snapshot kura:validated and unshares it when the policy does not share permanently', async () => {
    // Act
    const out = await runStateMachine('validation', { time: RUN_TIME.toISOString() }, { deps });

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    const body = await new VaultStore(deps.clients, deps.policy).getText(
      reportKey(deps.policy, '202611010000'),
    );
    const report = JSON.parse(body ?? '{}') as ValidationReport;
    expect(report.verdict).toBe('PASS');
    const item = report.items.find((i) => i.source === cluster);
    expect(item?.status).toBe('pass');
    expect(Object.fromEntries(item?.checks.map((c) => [c.name, c.status]) ?? [])).toMatchObject({
      available: 'pass',
      engine: 'pass',
      'cluster available': 'pass',
      'cluster engine': 'pass',
      writer: 'pass',
      'not public': 'pass',
      encrypted: 'pass',
      'isolated subnet group': 'pass',
      storage: 'skip',
    });
    expect(item?.cleanup.status).toBe('done');
    expect(item?.cleanup.resources).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AWS::RDS::DBCluster kura-v-202611010000-aurora-/),
        expect.stringMatching(/^AWS::RDS::DBInstance kura-v-202611010000-aurora-.*-w$/),
        expect.stringMatching(/^AWS::RDS::DBClusterSnapshot kura-v-202611010000-aurora-/),
      ]),
    );
    expect(item?.markedValidated).toBe(true);
    expect(report.items.find((i) => i.source === instance)?.status).toBe('pass');

    const snaps = await deps.clients
      .get(RDSClient)
      .send(new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: cluster, SnapshotType: 'manual' }));
    const snap = snaps.DBClusterSnapshots?.[0];
    expect(fromTagList(snap?.TagList)[TAG.validated]).toBe(RUN_TIME.toISOString());

    // The share did not outlive the rehearsal, for the cluster and the instance.
    const isolated = deps.policy.isolatedAccount?.accountId ?? '';
    expect(await restoreSharedWith(deps, 'cluster', snap?.DBClusterSnapshotIdentifier ?? '')).not.toContain(
      isolated,
    );
    const instSnap = (
      await deps.clients
        .get(RDSClient)
        .send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: instance, SnapshotType: 'manual' }))
    ).DBSnapshots?.[0];
    expect(await restoreSharedWith(deps, 'instance', instSnap?.DBSnapshotIdentifier ?? '')).not.toContain(
      isolated,
    );

    expect(report.leftovers).toEqual([]);
    expect(
      await listManagedInIsolated(await connectIsolated(await asValidationRestore('database', deps))),
    ).toEqual([]);
  });

  it('restores the unencrypted cluster not publicly accessible into the isolated subnet group, encrypted with the isolated key', async () => {
    // Prepare
    // As the validation machine's function that restores databases.
    const fn = await asValidationRestore('database', deps);
    const target = await prepareIsolatedTarget(fn, awsTargetInfra);
    const [rp] = await databaseRestoreStep.list(fn, { source: cluster });
    if (!rp) throw new Error('no recovery point');

    // Act: attempts until AWS has copied and restored (the state machine retries NotReadyError).
    const item = await untilReady(() =>
      databaseRestoreStep.restore(fn, target, rp, { runId: 'au-1', kmsKeyArn: target.kmsKeyArn }),
    );
    const again = await databaseRestoreStep.restore(fn, target, rp, {
      runId: 'au-1',
      kmsKeyArn: target.kmsKeyArn,
      pollSeconds: 0.1,
    });

    // Assess
    const name = `kura-v-au-1-${cluster}`;
    expect(item.resources.map((r) => [r.type, r.id])).toEqual([
      ['kura::RDS::DBClusterSnapshotShare', rp.id],
      ['AWS::RDS::DBClusterSnapshot', name],
      ['AWS::RDS::DBCluster', name],
      ['AWS::RDS::DBInstance', `${name}-w`],
    ]);
    // The second call adopts this run's resources (the share is recorded by every attempt).
    expect(again.resources).toEqual(item.resources);
    const { DescribeDBClustersCommand, DescribeDBInstancesCommand } = await import('@aws-sdk/client-rds');
    const rds = target.clients.get(RDSClient);
    // The copy of an unencrypted cluster snapshot stays unencrypted (CopyDBClusterSnapshot refuses a
    // KmsKeyId for it); the restore encrypts the cluster with the isolated key.
    const copy = (
      await rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: name }))
    ).DBClusterSnapshots?.[0];
    expect(copy?.StorageEncrypted).toBe(false);
    const c = (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: name }))).DBClusters?.[0];
    expect(c?.StorageEncrypted).toBe(true);
    expect(c?.KmsKeyId).toBe(target.kmsKeyArn);
    expect(c?.DBSubnetGroup).toBe(target.network.dbSubnetGroup);
    expect(c?.Engine).toBe('aurora-mysql');
    const w = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: `${name}-w` })))
      .DBInstances?.[0];
    expect(w?.PubliclyAccessible).not.toBe(true);
    expect(w?.DBClusterIdentifier).toBe(name);

    // Act: cleanup, twice (idempotent)
    await databaseRestoreStep.cleanup(target, item.resources);
    await databaseRestoreStep.cleanup(target, item.resources);

    // Assess
    expect(await listManagedInIsolated(target)).toEqual([]);
  });
});
