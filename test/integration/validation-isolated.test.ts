// Integration: the isolated account's side of a restore, on the emulator: the
// isolated network (found or created, refused when it has a way out) and the
// database restore step (share, copy re-encrypted, restore not public,
// resumable, cleaned up).
import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../shared/aws/deps.ts';
import { connectIsolated, prepareIsolatedTarget } from '../../shared/restore/isolated-network.ts';
import { asFunction, operatorClients } from '../../local/iam/principals.ts';
import { listManagedInIsolated } from '../../shared/aws/isolated-leftovers.ts';
import { clock } from '../support/emulator.ts';
import { untilReady } from '../support/restore.ts';
import { databaseWithSnapshot, validationDeps, validationPolicy } from '../support/validation-fixture.ts';
import {
  ensureIsolatedNetwork,
  isolationFindings,
  NetworkNotIsolatedError,
} from '../../shared/aws/isolated-network.ts';
import { databaseRestoreStep } from '../../shared/edge/restore-steps.ts';
import { awsTargetInfra } from '../../shared/aws/restore-ports.ts';

describe('isolated network', () => {
  it('is created once with no way out and found again on the next call', async () => {
    // Prepare
    const deps = await validationDeps(validationPolicy());
    const target = await connectIsolated(await asFunction('validation-step', deps));

    // Act
    const first = await ensureIsolatedNetwork(target.clients);
    const second = await ensureIsolatedNetwork(target.clients);

    // Assess
    expect(second).toEqual(first);
    expect(first.subnetIds).toHaveLength(2);
    expect(await isolationFindings(target.clients, first.vpcId)).toEqual([]);
    const groups = await target.clients
      .get(EC2Client)
      .send(
        new DescribeSecurityGroupsCommand({ GroupIds: [first.securityGroupId, first.dbSecurityGroupId] }),
      );
    const noIngress = groups.SecurityGroups?.find((g) => g.GroupId === first.securityGroupId);
    expect(noIngress?.IpPermissions).toEqual([]);
    expect(noIngress?.IpPermissionsEgress).toEqual([]);
    const db = groups.SecurityGroups?.find((g) => g.GroupId === first.dbSecurityGroupId);
    expect(db?.IpPermissions?.flatMap((p) => p.UserIdGroupPairs?.map((u) => u.GroupId) ?? [])).toEqual([
      first.dbSecurityGroupId,
      first.dbSecurityGroupId,
    ]);
    expect(db?.IpPermissions?.flatMap((p) => p.IpRanges ?? [])).toEqual([]);
  });

  it('refuses a network that someone gave an internet gateway', async () => {
    // Prepare
    const deps = await validationDeps(validationPolicy());
    const target = await connectIsolated(await asFunction('validation-step', deps));
    const net = await ensureIsolatedNetwork(target.clients);
    // Someone with the isolated account's administrator rights (kura-restore cannot) adds a way out.
    const ec2 = (await operatorClients(target.accountId, deps.clients, target.region)).get(EC2Client);
    const igw = await ec2.send(new CreateInternetGatewayCommand({}));
    await ec2.send(
      new AttachInternetGatewayCommand({
        InternetGatewayId: igw.InternetGateway?.InternetGatewayId,
        VpcId: net.vpcId,
      }),
    );

    // Act
    const attempt = ensureIsolatedNetwork(target.clients);

    // Assess
    await expect(attempt).rejects.toThrow(NetworkNotIsolatedError);
    await expect(attempt).rejects.toThrow(/internet gateway igw-\w+ is attached/);
  });
});

describe('database restore step', () => {
  let deps: Deps;

  beforeAll(async () => {
    deps = await validationDeps(validationPolicy());
    await databaseWithSnapshot(deps, 'orders-db', new Date('2026-10-31T19:00:00Z'));
    // The validation runs the next month: AWS has long finished the snapshot.
    clock.set(new Date('2026-11-01T00:00:00Z'));
  });

  it('restores the latest snapshot not publicly accessible, encrypted with the isolated key, and resumes instead of duplicating', async () => {
    // Prepare
    const target = await prepareIsolatedTarget(await asFunction('validation-step', deps), awsTargetInfra);
    const [rp] = await databaseRestoreStep.list(await asFunction('validation-step', deps), {
      source: 'orders-db',
    });
    if (!rp) throw new Error('no recovery point');

    // Act: attempts until AWS has copied and restored (the state machine retries NotReadyError).
    // The item's restore runs in the database class's function, as its role.
    const fn = await asFunction('validation-database', deps);
    const item = await untilReady(() =>
      databaseRestoreStep.restore(fn, target, rp, { runId: 'it-1', kmsKeyArn: target.kmsKeyArn }),
    );
    const again = await databaseRestoreStep.restore(fn, target, rp, {
      runId: 'it-1',
      kmsKeyArn: target.kmsKeyArn,
    });

    // Assess
    expect(item.resources.map((r) => [r.type, r.id])).toEqual([
      ['kura::RDS::DBSnapshotShare', rp.id],
      ['AWS::RDS::DBSnapshot', 'kura-v-it-1-orders-db'],
      ['AWS::RDS::DBInstance', 'kura-v-it-1-orders-db'],
    ]);
    // The share is recorded by every attempt (so the run removes it); the second call adds nothing.
    expect(again.resources).toEqual(item.resources);
    const inst = (
      await target.clients
        .get(RDSClient)
        .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'kura-v-it-1-orders-db' }))
    ).DBInstances?.[0];
    expect(inst?.PubliclyAccessible).not.toBe(true);
    expect(inst?.DBSubnetGroup?.DBSubnetGroupName).toBe(target.network.dbSubnetGroup);
    expect(inst?.StorageEncrypted).toBe(true);
    expect(inst?.KmsKeyId).toBe(target.kmsKeyArn);
    expect(inst?.Engine).toBe('mysql');
    expect((await listManagedInIsolated(target, 'it-1')).map((l) => l.id)).toEqual([
      'kura-v-it-1-orders-db',
      'kura-v-it-1-orders-db',
    ]);

    // Act: cleanup, twice (idempotent)
    await databaseRestoreStep.cleanup(target, item.resources);
    await databaseRestoreStep.cleanup(target, item.resources);

    // Assess
    expect(await listManagedInIsolated(target)).toEqual([]);
  });

  it('refuses to adopt a database under its name that this run did not make, and cleanup leaves it alone', async () => {
    // Prepare: an operator's database named like the restore would name it
    const target = await prepareIsolatedTarget(await asFunction('validation-step', deps), awsTargetInfra);
    const [rp] = await databaseRestoreStep.list(await asFunction('validation-step', deps), {
      source: 'orders-db',
    });
    if (!rp) throw new Error('no recovery point');
    const { CreateDBInstanceCommand } = await import('@aws-sdk/client-rds');
    await (await operatorClients(target.accountId, deps.clients, target.region)).get(RDSClient).send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'kura-v-it-2-orders-db',
        Engine: 'mysql',
        DBInstanceClass: 'db.t4g.micro',
        AllocatedStorage: 20,
        MasterUsername: 'ops',
        MasterUserPassword: 'operator-pw-1',
      }),
    );

    // Act
    // The item's restore runs in the database class's function, as its role.
    const fn = await asFunction('validation-database', deps);
    const attempt = untilReady(() =>
      databaseRestoreStep.restore(fn, target, rp, { runId: 'it-2', kmsKeyArn: target.kmsKeyArn }),
    );

    // Assess
    const err = (await attempt.catch((e: unknown) => e)) as Error & { resources?: { id: string }[] };
    expect(err.name).toBe('RestoreFailedError');
    expect(err.message).toContain('refusing to adopt');
    await databaseRestoreStep
      .cleanup(target, [
        ...(err.resources as never[]),
        {
          type: 'AWS::RDS::DBInstance',
          id: 'kura-v-it-2-orders-db',
          account: target.accountId,
          region: target.region,
          cleanup: '',
        },
      ])
      .catch(() => {});
    const still = await target.clients
      .get(RDSClient)
      .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'kura-v-it-2-orders-db' }));
    expect(still.DBInstances?.[0]?.MasterUsername).toBe('ops');
    expect(await listManagedInIsolated(target)).toEqual([]);
  });
});
