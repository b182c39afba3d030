import { operatorClients } from '../../local/iam/principals.ts';
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
import { rdsSnapshot as run } from '../support/functions.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { KmsAdapter } from '../../shared/aws/kms.ts';
import { type DatabasePort, RdsAdapter } from '../../shared/aws/rds.ts';
import { fromTagList } from '../../shared/domain/tags.ts';
import { addDays } from '../../shared/policy/calendar.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { rdsSnapshot } from '../../shared/usecases/rds-snapshot.ts';
import { clock, emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { allowedActions, requestsOf, withoutGrant } from '../support/iam.ts';
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

/** A scheduled run at `time`: the emulator's clock is at the run's time, as on AWS. */
const invoke = (time: Date, policy: Policy, with_: Clients = clients) => {
  clock.set(time);
  return run(syntheticScheduledEvent(time), { policy, clients: with_ }) as Promise<RunResult>;
};
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
    expect(replay.targets[0]?.actions[0]).toContain('already exists (replayed event)');
    expect(replay.targets[0]?.actions.filter((a) => a.startsWith('created'))).toEqual([]);
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
      clock.set(addDays(day0, d));
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
    // The three newest available ones stay: the new one, still creating, is not a generation yet.
    expect(ids).toEqual([
      `kura-${db}-202610021900`,
      `kura-${db}-202610031900`,
      `kura-${db}-202610041900`,
      `kura-${db}-202610151900`,
    ]);

    const next = await invoke(addDays(day0, 15), policy);

    // A run later the new one is available: it counts, and the oldest of the three goes.
    expect(next.ok).toBe(true);
    expect((await snapshotsOf(db)).map((s) => s.id).sort()).toEqual([
      `kura-${db}-202610031900`,
      `kura-${db}-202610041900`,
      `kura-${db}-202610151900`,
      `kura-${db}-202610161900`,
    ]);
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

    // Each snapshot is copied by the run after it, once AWS has finished it; copies
    // past retention are pruned like their sources (day 8: days 2 to 7 remain).
    const copies = await snapshotsOf(db, 'ap-southeast-1');
    expect(copies.map((c) => c.id).sort()).toEqual(
      [3, 4, 5, 6, 7, 8].map((day) => `kura-${db}-2026100${day}1900`),
    );
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

    const first = await invoke(day0, policy);
    const result = await invoke(addDays(day0, 1), policy);

    // AWS refuses to share a snapshot that is still creating: it is shared by the next run.
    expect(first.targets.flatMap((t) => t.actions).filter((a) => a.startsWith('shared'))).toEqual([]);
    expect(result.targets.find((t) => t.target === shared)?.actions).toContain(
      `shared kura-${shared}-202610011900 with ${ISOLATED}`,
    );
    expect(result.targets.find((t) => t.target === blocked)?.warnings).toEqual([
      expect.stringContaining(`key ${private_.KeyMetadata?.Arn} does not allow account ${ISOLATED}`),
    ]);
    expect(result.ok).toBe(true);
    const isolated = await operatorClients(ISOLATED, clients);
    const seen = await isolated
      .get(RDSClient)
      .send(new DescribeDBSnapshotsCommand({ SnapshotType: 'shared' }));
    const ids = (seen.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier);
    expect(ids).toContain(`kura-${shared}-202610011900`);
  });

  it('converges under AWS timing: ten daily runs copy, share and prune every snapshot a run after it was taken', async () => {
    // Prepare: the reference policy's DR copy and sharing, a snapshot AWS finishes in 20 minutes.
    const drKey = await clients
      .get(KMSClient, 'ap-southeast-1')
      .send(new CreateKeyCommand({ Description: 'dr' }));
    const policy = policyFor((p) => {
      if (!p.database) return;
      p.database.copy = { region: 'ap-southeast-1', kmsKeyId: drKey.KeyMetadata?.Arn };
      p.database.shareWithIsolatedAccount = true;
    });
    const db = `daily-${uniqueSuffix()}`;
    await createDb(db, policy);

    // Act: ten scheduled days; each run finds its own snapshot `creating`, as on AWS.
    const results: RunResult[] = [];
    for (let d = 0; d < 10; d++) results.push(await invoke(addDays(day0, d), policy));

    // Assess: every run succeeded without a warning, though none saw its own snapshot finished.
    expect(results.map((r) => r.ok)).toEqual(Array(10).fill(true));
    expect(results.flatMap((r) => r.targets.flatMap((t) => t.warnings))).toEqual([]);
    expect(results.map((r) => r.targets[0]?.snapshotStatus)).toEqual(Array(10).fill('creating'));
    // Pruned to the policy's 7 days (today's, still creating, among them).
    const names = (await snapshotsOf(db)).map((x) => x.id).sort();
    expect(names).toEqual(
      [4, 5, 6, 7, 8, 9, 10].map((day) => `kura-${db}-202610${String(day).padStart(2, '0')}1900`),
    );
    // Every available snapshot within retention has its DR copy and is shared.
    const copies = (await snapshotsOf(db, 'ap-southeast-1')).map((x) => x.id).sort();
    expect(copies).toEqual(names.slice(0, -1));
    const isolated = await operatorClients(ISOLATED, clients);
    const seen = await isolated
      .get(RDSClient)
      .send(new DescribeDBSnapshotsCommand({ SnapshotType: 'shared' }));
    const shared = (seen.DBSnapshots ?? [])
      .map((x) => x.DBSnapshotIdentifier)
      .filter((id) => id?.includes(db));
    expect(shared.sort()).toEqual(names.slice(0, -1));
    // Each snapshot was copied and shared exactly once, by the run after it.
    expect(results[1]?.targets[0]?.copied).toEqual([`kura-${db}-202610011900`]);
    expect(results[1]?.targets[0]?.shared).toEqual([`kura-${db}-202610011900`]);
  });

  it('warns once about a snapshot stuck in progress past the limit, then fails the next run, naming it', async () => {
    // Prepare: snapshots of this database take AWS three days (a large first snapshot).
    const slow = emulatorClients('ap-northeast-1', { 'rds.snapshot': 3 * 86_400 });
    const policy = policyFor((p) => {
      if (p.database) p.database.stuckAfterHours = 12;
    });
    const db = `stuck-${uniqueSuffix()}`;
    await createDb(db, policy);

    // Act
    const first = await invoke(day0, policy, slow);
    const second = await invoke(addDays(day0, 1), policy, slow);
    const third = await invoke(addDays(day0, 2), policy, slow);

    // Assess: in progress is fine on its first day, a warning on the next, a failure after.
    expect(first.ok).toBe(true);
    expect(first.targets[0]?.warnings).toEqual([]);
    expect(second.ok).toBe(true);
    expect(second.targets[0]?.warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^kura-${db}-202610011900 is still creating after 24 h \\(limit 12 h`),
      ),
    ]);
    expect(third.ok).toBe(false);
    expect(third.targets[0]?.error).toEqual({
      name: 'RecoveryPointStuckError',
      message: expect.stringContaining(`kura-${db}-202610011900 is still creating after 2 days`),
    });
    // The run that fails still did the rest of its work: today's snapshot was taken.
    expect(third.targets[0]?.actions).toContain(`created kura-${db}-202610031900`);
  });

  it('is allowed by its deployed role every call of a run, sharing, copying and enforcing retention included', async () => {
    // Prepare: every path of a run (retention enforced, DR copy, share).
    const policy = policyFor((p) => {
      if (!p.database) return;
      p.database.enforceBackupRetention = true;
      p.database.copy = { region: 'ap-southeast-1' };
      p.database.shareWithIsolatedAccount = true;
    });
    const db = `perm-${uniqueSuffix()}`;
    await createDb(db, policy, { BackupRetentionPeriod: 2 });

    // Act: as its role (test/support/functions.ts), through the IAM front layer.
    const { requests } = await requestsOf(async () => {
      await invoke(day0, policy);
      await invoke(addDays(day0, 1), policy);
    });

    // Assess: the calls of each path were made as RdsSnapshotRole and allowed by its policy
    // (test/setup.ts fails the test on any refusal).
    expect([...allowedActions(requests, 'RdsSnapshotRole')]).toEqual(
      expect.arrayContaining([
        'rds:DescribeDBSnapshotAttributes',
        'rds:ModifyDBSnapshotAttribute',
        'rds:ModifyDBInstance',
        'rds:DescribeAccountAttributes',
        'rds:CopyDBSnapshot',
      ]),
    );
    expect(requests.filter((r) => r.principal === 'RdsSnapshotRole' && r.denied)).toEqual([]);
  });

  it('reads the manual snapshot quotas per region and per kind, and warns for the one nearly used up', async () => {
    const policy = policyFor((p) => {
      if (p.database) p.database.copy = { region: 'ap-southeast-1' };
    });
    await createDb(`quota-${uniqueSuffix()}`, policy);
    const real = new RdsAdapter(clients);
    const asked: string[] = [];
    // The account's quotas as RDS reports them, with the DR region's cluster snapshots nearly used up.
    const port: DatabasePort = Object.assign(Object.create(real), {
      snapshotQuotas: async (region: string) => {
        asked.push(region);
        // What RDS reports, with the DR region's cluster snapshots nearly used up (the
        // emulator's account is shared by every test file: its real counts are not this test's).
        const quotas = await real.snapshotQuotas(region);
        return quotas.map((q) =>
          region === 'ap-southeast-1' && q.kind === 'cluster'
            ? { ...q, used: 95, max: 100 }
            : { ...q, used: 5, max: 100 },
        );
      },
    });

    clock.set(day0);
    const result = await rdsSnapshot(day0, policy, { db: port, keys: new KmsAdapter(clients) });

    expect(asked).toEqual(['ap-northeast-1', 'ap-southeast-1']);
    expect(result.warnings).toEqual([
      'manual cluster snapshots: 95 of the quota of 100 in ap-southeast-1; raise the quota or lower retention',
    ]);
    expect(result.manualSnapshots).toContainEqual({
      region: 'ap-northeast-1',
      kind: 'instance',
      used: expect.any(Number),
      quota: 100,
    });
  });

  it('names a refused quota read and falls back to counting against database.snapshotQuota', async () => {
    const policy = policyFor((p) => {
      if (p.database) p.database.snapshotQuota = 1;
    });
    await createDb(`quota-denied-${uniqueSuffix()}`, policy);
    // Act: as a role without rds:DescribeAccountAttributes.
    const { result, refused } = await withoutGrant('rds:DescribeAccountAttributes', () =>
      invoke(day0, policy),
    );

    expect(refused.map((r) => r.operation)).toContain('rds:DescribeAccountAttributes');
    expect(result?.warnings).toContainEqual(
      expect.stringMatching(
        /^manual instance snapshot quota in ap-northeast-1 could not be read \(AccessDenied \(HTTP 403\): kura iam: RdsSnapshotRole .*is not authorized.*\); assumed 1/,
      ),
    );
    expect(result?.warnings).toContainEqual(
      expect.stringMatching(/^manual instance snapshots: \d+ of the quota of 1 in ap-northeast-1/),
    );
  });
});
