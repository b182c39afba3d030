// rds-snapshot against moto: real SDK clients over HTTP.

import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateDBClusterCommand,
  type CreateDBInstanceCommandInput,
  CreateDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../functions/rds-snapshot/handler.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { KmsAdapter } from '../../shared/aws/kms.ts';
import { type DatabasePort, RdsAdapter } from '../../shared/aws/rds.ts';
import { addDays } from '../../shared/domain/calendar.ts';
import { fromTagList } from '../../shared/domain/tags.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { rdsSnapshot } from '../../shared/usecases/rds-snapshot.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { createDatabase } from '../support/rds.ts';

const ISOLATED = '210987654321';
let clients: Clients;
let rds: RDSClient;

beforeAll(() => {
  clients = emulatorClients();
  rds = clients.get(RDSClient);
});

function policyFor(overrides: (p: Policy) => void = () => {}): Policy {
  return testPolicy((p) => {
    if (!p.database) throw new Error('reference policy has a database section');
    p.database.copy = undefined;
    p.database.shareWithIsolatedAccount = false;
    overrides(p);
  });
}

async function createDb(
  id: string,
  policy: Policy | undefined,
  extra: Partial<CreateDBInstanceCommandInput> = {},
): Promise<void> {
  const tags: Record<string, string> = { env: 'prod', owner: 'shop-team', 'cost-center': '42' };
  if (policy) tags[policy.selector.tagKey] = policy.selector.tagValue;
  await createDatabase(clients, id, tags, extra);
}

async function snapshotsOf(id: string, region?: string) {
  const r = await clients
    .get(RDSClient, region)
    .send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: id, SnapshotType: 'manual' }));
  return (r.DBSnapshots ?? []).map((s) => ({
    id: s.DBSnapshotIdentifier ?? '',
    tags: fromTagList(s.TagList),
    kms: s.KmsKeyId,
  }));
}

const invoke = (time: Date, policy: Policy) =>
  run(syntheticScheduledEvent(time), { policy, clients }) as Promise<RunResult>;
const day0 = new Date('2026-10-01T19:00:00Z');

describe('rds-snapshot', () => {
  it('snapshots a tagged database with kura tags and the policy-named source tags', async () => {
    const policy = policyFor();
    const db = `shop-${uniqueSuffix()}`;
    await createDb(db, policy);

    const result = await invoke(day0, policy);

    expect(result.ok).toBe(true);
    expect(result.targets.map((t) => [t.target, t.status])).toEqual([[db, 'ok']]);
    const [snap] = await snapshotsOf(db);
    expect(snap?.id).toBe(`kura-${db}-202610011900`);
    expect(snap?.tags).toMatchObject({
      'kura:managed': 'true',
      'kura:class': 'database',
      'kura:source': db,
      'kura:time': '2026-10-01T19:00:00.000Z',
      env: 'prod',
      owner: 'shop-team',
    });
    expect(snap?.tags['cost-center']).toBeUndefined();
  });

  it('never touches an untagged database', async () => {
    const policy = policyFor();
    const tagged = `tagged-${uniqueSuffix()}`;
    const untagged = `untagged-${uniqueSuffix()}`;
    await createDb(tagged, policy);
    await createDb(untagged, undefined);

    const result = await invoke(day0, policy);

    expect(result.targets.map((t) => t.target)).toEqual([tagged]);
    expect(result.skipped).toContain(untagged);
    expect(await snapshotsOf(untagged)).toEqual([]);
  });

  it('does nothing new when the same event is replayed', async () => {
    const policy = policyFor();
    const db = `replay-${uniqueSuffix()}`;
    await createDb(db, policy);
    await invoke(day0, policy);

    const replay = await invoke(day0, policy);

    expect(replay.ok).toBe(true);
    expect(replay.targets[0]?.actions).toEqual([expect.stringContaining('already exists (replayed event)')]);
    expect(await snapshotsOf(db)).toHaveLength(1);
  });

  it("refuses to adopt a snapshot with kura's name that kura did not make", async () => {
    const policy = policyFor();
    const db = `squat-${uniqueSuffix()}`;
    await createDb(db, policy);
    await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: db,
        DBSnapshotIdentifier: `kura-${db}-202610011900`,
      }),
    );

    const result = await invoke(day0, policy);

    expect(result.ok).toBe(false);
    expect(result.targets[0]?.error?.message).toContain('exists but is not kura-managed');
  });

  it('prunes past retention but keeps a lookalike unmanaged snapshot whatever its name', async () => {
    const policy = policyFor();
    const db = `prune-${uniqueSuffix()}`;
    await createDb(db, policy);
    const lookalike = `kura-${db}-202001010000`;
    await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: db,
        DBSnapshotIdentifier: lookalike,
        Tags: [{ Key: 'kura:class', Value: 'database' }],
      }),
    );

    for (let d = 0; d < 12; d++) await invoke(addDays(day0, d), policy);

    const ids = (await snapshotsOf(db)).map((s) => s.id).sort();
    expect(ids).toContain(lookalike);
    const managed = ids.filter((i) => i !== lookalike);
    expect(managed).toHaveLength(7);
    expect(managed[0]).toBe(`kura-${db}-202610061900`);
  });

  it('keeps the minimum generations after ten days of failures, and fails those runs', async () => {
    const policy = policyFor((p) => {
      if (p.database) p.database.minGenerations = 3;
    });
    const db = `flaky-${uniqueSuffix()}`;
    const healthy = `healthy-${uniqueSuffix()}`;
    await createDb(db, policy);
    await createDb(healthy, policy);
    const real = new RdsAdapter(clients);
    for (let d = 0; d < 4; d++) await invoke(addDays(day0, d), policy);

    // Days 4..13: snapshots of `db` fail (an injected fault in front of the real adapter).
    const failing: DatabasePort = Object.assign(Object.create(real), {
      createSnapshot: async (target: { id: string }, id: string, tags: Record<string, string>) => {
        if (target.id === db)
          throw Object.assign(new Error('InvalidDBInstanceState: injected'), {
            name: 'InvalidDBInstanceState',
          });
        return real.createSnapshot(target as never, id, tags);
      },
    });
    const failures: RunResult[] = [];
    for (let d = 4; d < 14; d++) {
      failures.push(
        await rdsSnapshot(addDays(day0, d), policy, { db: failing, keys: new KmsAdapter(clients) }),
      );
    }
    expect(failures.every((r) => !r.ok)).toBe(true);
    const lastFailure = failures.at(-1);
    expect(lastFailure?.targets.find((t) => t.target === healthy)?.status).toBe('ok');
    expect(lastFailure?.targets.find((t) => t.target === db)?.error?.message).toContain('injected');
    expect(await snapshotsOf(db)).toHaveLength(4);

    const recovered = await invoke(addDays(day0, 14), policy);

    expect(recovered.ok).toBe(true);
    const ids = (await snapshotsOf(db)).map((s) => s.id).sort();
    // The new one plus the two newest old ones: never below 3 generations.
    expect(ids).toEqual([`kura-${db}-202610031900`, `kura-${db}-202610041900`, `kura-${db}-202610151900`]);
  });

  it('snapshots and prunes an Aurora cluster at cluster level', async () => {
    const policy = policyFor();
    const cluster = `aurora-${uniqueSuffix()}`;
    await rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: cluster,
        Engine: 'aurora-mysql',
        MasterUsername: 'admin',
        MasterUserPassword: 'password-123',
        BackupRetentionPeriod: 7,
        Tags: [{ Key: policy.selector.tagKey, Value: policy.selector.tagValue }],
      }),
    );

    for (let d = 0; d < 9; d++) await invoke(addDays(day0, d), policy);

    const r = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: cluster, SnapshotType: 'manual' }),
    );
    const ids = (r.DBClusterSnapshots ?? []).map((s) => s.DBClusterSnapshotIdentifier).sort();
    expect(ids).toHaveLength(7);
    expect(ids[6]).toBe(`kura-${cluster}-202610091900`);
  });

  it('reports a PITR retention violation and a metric, without changing the database', async () => {
    const policy = policyFor();
    const db = `pitr-${uniqueSuffix()}`;
    await createDb(db, policy, { BackupRetentionPeriod: 2 });

    const result = await invoke(new Date(), policy);

    expect(result.targets[0]?.warnings).toEqual([
      expect.stringContaining('retention is 2 days; the policy needs at least 7'),
    ]);
    expect(result.metrics).toContainEqual({
      name: 'PitrViolation',
      value: 1,
      unit: 'Count',
      dimensions: { database: db, kind: 'retention' },
    });
    const after = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: db }));
    expect(after.DBInstances?.[0]?.BackupRetentionPeriod).toBe(2);
  });

  it('fixes the automated backup retention only when the policy says so', async () => {
    const policy = policyFor((p) => {
      if (p.database) p.database.enforceBackupRetention = true;
    });
    const db = `enforce-${uniqueSuffix()}`;
    await createDb(db, policy, { BackupRetentionPeriod: 2 });

    const result = await invoke(new Date(), policy);

    expect(result.targets[0]?.actions).toContain(
      'set automated backup retention to 7 days (policy enforceBackupRetention)',
    );
    const after = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: db }));
    expect(after.DBInstances?.[0]?.BackupRetentionPeriod).toBe(7);
  });

  it('copies an encrypted snapshot to the DR region re-encrypted with the DR key, and prunes copies too', async () => {
    const drKey = await clients
      .get(KMSClient, 'ap-southeast-1')
      .send(new CreateKeyCommand({ Description: 'dr' }));
    const srcKey = await clients.get(KMSClient).send(new CreateKeyCommand({ Description: 'src' }));
    const policy = policyFor((p) => {
      if (p.database) p.database.copy = { region: 'ap-southeast-1', kmsKeyId: drKey.KeyMetadata?.Arn };
    });
    const db = `dr-${uniqueSuffix()}`;
    await createDb(db, policy, { StorageEncrypted: true, KmsKeyId: srcKey.KeyMetadata?.Arn });

    for (let d = 0; d < 9; d++) await invoke(addDays(day0, d), policy);

    const copies = await snapshotsOf(db, 'ap-southeast-1');
    expect(copies).toHaveLength(7);
    expect(copies.every((c) => c.kms === drKey.KeyMetadata?.Arn)).toBe(true);
    expect(copies[0]?.tags['kura:copy-of']).toMatch(/^ap-northeast-1:kura-/);
  });

  it('shares an encrypted snapshot with the isolated account, and names a key that blocks it', async () => {
    const kms = clients.get(KMSClient);
    const allowing = await kms.send(
      new CreateKeyCommand({
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::123456789012:root' },
              Action: 'kms:*',
              Resource: '*',
            },
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${ISOLATED}:root` },
              Action: ['kms:Decrypt', 'kms:CreateGrant', 'kms:DescribeKey'],
              Resource: '*',
            },
          ],
        }),
      }),
    );
    const private_ = await kms.send(new CreateKeyCommand({ Description: 'own account only' }));
    const policy = policyFor((p) => {
      if (p.database) p.database.shareWithIsolatedAccount = true;
    });
    const shared = `shared-${uniqueSuffix()}`;
    const blocked = `blocked-${uniqueSuffix()}`;
    await createDb(shared, policy, { StorageEncrypted: true, KmsKeyId: allowing.KeyMetadata?.Arn });
    await createDb(blocked, policy, { StorageEncrypted: true, KmsKeyId: private_.KeyMetadata?.Arn });

    const result = await invoke(day0, policy);

    expect(result.targets.find((t) => t.target === shared)?.actions).toContain(
      `shared kura-${shared}-202610011900 with ${ISOLATED}`,
    );
    expect(result.targets.find((t) => t.target === blocked)?.warnings).toEqual([
      expect.stringContaining(`key ${private_.KeyMetadata?.Arn} does not allow account ${ISOLATED}`),
    ]);
    const isolated = await clients.assumeRole(`arn:aws:iam::${ISOLATED}:role/kura-restore`, {
      externalId: 'kura-isolated-restore',
    });
    const seen = await isolated
      .get(RDSClient)
      .send(new DescribeDBSnapshotsCommand({ SnapshotType: 'shared' }));
    const ids = (seen.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier);
    expect(ids).toContain(`kura-${shared}-202610011900`);
  });

  it('warns when the account nears the manual-snapshot quota', async () => {
    const policy = policyFor((p) => {
      if (p.database) p.database.snapshotQuota = 3;
    });
    await createDb(`quota-${uniqueSuffix()}`, policy);

    const result = await invoke(day0, policy);

    expect(result.warnings).toContainEqual(expect.stringMatching(/^manual snapshots: \d+ of the quota of 3/));
    // Nothing else but, with no vault in this test, the first-point record that could not be written.
    expect(
      result.warnings.filter((w) => !/^(manual snapshots|first-point record of database)/.test(w)),
    ).toEqual([]);
  });
});
