// Issue 16, databases: a week of daily runs with two source accounts (one of
// them in two regions). Each snapshot is taken in its source account through
// kura-source, shared with the backup account, copied into it by ARN and
// re-encrypted with the backup account's key; the source keeps only
// database.keepInSource once the copy is available; the DR copies are made
// from the backup account's copies; pruning acts there and keeps the minimum.
// Every request is evaluated against the deployed policies and key policies.
import {
  CreateDBClusterCommand,
  CreateDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  type DBSnapshot,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { operatorClients } from '../../local/iam/principals.ts';
import { runRestoreLocally } from '../../local/restore.ts';
import { ensureVault } from '../../local/vault.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import type { RestoreReport } from '../../shared/restore/plan.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { fromTagList } from '../../shared/domain/tags.ts';
import { parsePolicy } from '../../shared/policy/parse.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { clock, emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { rdsSnapshot } from '../support/functions.ts';
import { requestsOf } from '../support/iam.ts';
import { createDatabase } from '../support/rds.ts';
import {
  customerKey,
  SOURCE_A,
  SOURCE_B,
  SOURCE_B_SECOND_REGION,
  withTwoSources,
} from '../support/source-accounts.ts';

const REGION = 'ap-northeast-1';
const DR_REGION = 'ap-southeast-1';
const BACKUP = '123456789012';
const DAY = 86_400_000;
const day0 = new Date('2026-11-01T19:00:00Z');
const addDays = (d: Date, n: number) => new Date(d.getTime() + n * DAY);

let backup: Clients;
let backupDr: Clients;
let a: Clients;
let b2: Clients;
let isolated: string;

beforeAll(async () => {
  backup = emulatorClients();
  backupDr = emulatorClients(DR_REGION);
  a = await operatorClients(SOURCE_A, backup, REGION);
  b2 = await operatorClients(SOURCE_B, backup, SOURCE_B_SECOND_REGION);
  isolated = testPolicy().isolatedAccount?.accountId ?? '';
});

interface Fixture {
  policy: Policy;
  db: string;
  sourceKeys: { a: string; b2: string };
}

/** Two source accounts, each with an encrypted database `db` (same name), the backup and DR keys. */
async function fixture(
  opts: { keepInSource?: number; sourceKeyAllowsBackup?: boolean; vault?: boolean } = {},
): Promise<Fixture> {
  const sfx = uniqueSuffix();
  const backupKey = `alias/kura-database-copies-${sfx}`;
  const drKey = `alias/kura-dr-${sfx}`;
  await customerKey(backup, BACKUP, [isolated], backupKey);
  await customerKey(backupDr, BACKUP, [], drKey);
  const allowed = opts.sourceKeyAllowsBackup === false ? [] : [BACKUP];
  const sourceKeys = {
    a: await customerKey(a, SOURCE_A, allowed),
    b2: await customerKey(b2, SOURCE_B, allowed),
  };
  const tag = `t-${sfx}`;
  const p = testPolicy((x) => {
    if (!x.database) throw new Error('reference policy has a database section');
    x.database.copy = { region: DR_REGION, kmsKeyId: drKey };
    x.database.kmsKeyId = backupKey;
    x.database.retainDays = 4;
    x.database.minGenerations = 3;
    x.database.shareWithIsolatedAccount = false;
    if (opts.keepInSource !== undefined) x.database.keepInSource = opts.keepInSource;
    if (opts.vault) x.vault.bucket = `kura-vault-srcdb-${sfx}`;
  });
  if (opts.vault) await ensureVault(backup, p);
  const policy = parsePolicy(withTwoSources(p, tag), 'two-sources');
  const db = `shop-${sfx}`;
  const encrypted = (key: string) => ({ StorageEncrypted: true, KmsKeyId: key });
  await createDatabase(a, db, { 'kura:backup': tag, env: 'prod' }, encrypted(sourceKeys.a));
  await createDatabase(b2, db, { 'kura:backup': tag, env: 'prod' }, encrypted(sourceKeys.b2));
  return { policy, db, sourceKeys };
}

async function manualSnapshots(c: Clients, db: string, region?: string) {
  const out = await c
    .get(RDSClient, region)
    .send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: db, SnapshotType: 'manual' }));
  return (out.DBSnapshots ?? []).map((s: DBSnapshot) => ({
    id: s.DBSnapshotIdentifier ?? '',
    status: s.Status,
    kmsKeyId: s.KmsKeyId,
    tags: fromTagList(s.TagList),
  }));
}

const invoke = (time: Date, policy: Policy) => {
  clock.set(time);
  return rdsSnapshot(syntheticScheduledEvent(time), { policy, clients: backup }) as Promise<RunResult>;
};

const stamp = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 12);

describe('rds-snapshot with two source accounts: the backup account owns the copies', () => {
  it('a week of daily runs: copies in the backup account, keepInSource in the source, DR copies from the backup copies, pruning keeps the minimum', async () => {
    // Prepare
    const { policy, db } = await fixture();

    // Act: seven daily runs (the last one's requests as the IAM front layer authorized them)
    const results: RunResult[] = [];
    for (let d = 0; d < 6; d++) results.push(await invoke(addDays(day0, d), policy));
    const { result: lastRun, requests } = await requestsOf(() => invoke(addDays(day0, 6), policy));
    results.push(lastRun);

    // Assess: every run ok; each source keeps one available snapshot (keepInSource 1) and today's, still creating.
    expect(
      results.map((r) => [r.ok, r.targets.filter((t) => t.status !== 'ok').map((t) => t.error)]),
    ).toEqual(results.map(() => [true, []]));
    const last = addDays(day0, 6);
    for (const c of [a, b2]) {
      const inSource = await manualSnapshots(c, db);
      expect(inSource.map((s) => [s.id, s.status]).sort()).toEqual([
        [`kura-${db}-${stamp(addDays(last, -1))}`, 'available'],
        [`kura-${db}-${stamp(last)}`, 'creating'],
      ]);
    }
    // Who did what: the source role shares and deletes in its account, kura's role copies into its own.
    expect(requests.filter((r) => r.denied).map((r) => `${r.principal} ${r.operation}`)).toEqual([]);
    const by = (op: string) =>
      [...new Set(requests.filter((r) => r.operation === op).map((r) => r.principal))].sort();
    expect(by('rds:ModifyDBSnapshotAttribute')).toEqual([
      `kura-source (${SOURCE_A})`,
      `kura-source (${SOURCE_B})`,
    ]);
    expect(by('rds:CopyDBSnapshot')).toEqual(['RdsSnapshotRole']);
    expect(by('rds:DeleteDBSnapshot')).toEqual(
      expect.arrayContaining([`kura-source (${SOURCE_A})`, `kura-source (${SOURCE_B})`]),
    );
    // The backup account holds the copies, one name per source account and region, re-encrypted with its key.
    const copies = await manualSnapshots(backup, db);
    const of = (account: string, region: string) =>
      copies
        .filter((s) => s.tags['kura:source-account'] === account && s.tags['kura:source-region'] === region)
        .map((s) => s.id)
        .sort();
    // Retention 4 days, minimum 3: the copies of days 1..5 were made; day 1 is past retention.
    const expected = (account: string, region: string) =>
      [2, 3, 4, 5].map((d) => `kura-${db}-${stamp(addDays(day0, d))}-${account}-${region}`);
    expect(of(SOURCE_A, REGION)).toEqual(expected(SOURCE_A, REGION));
    expect(of(SOURCE_B, SOURCE_B_SECOND_REGION)).toEqual(expected(SOURCE_B, SOURCE_B_SECOND_REGION));
    for (const c of copies) {
      expect(c.tags).toMatchObject({
        'kura:managed': 'true',
        'kura:class': 'database',
        'kura:source': db,
        env: 'prod',
      });
      expect(c.kmsKeyId).toContain(`:${BACKUP}:`);
    }
    // DR copies are copies of the backup account's copies (their names, copied from the backup
    // account's region); pruning there keeps the minimum complete generations while the newest copies.
    const dr = await manualSnapshots(backup, db, DR_REGION);
    for (const [account, region] of [
      [SOURCE_A, REGION],
      [SOURCE_B, SOURCE_B_SECOND_REGION],
    ] as const) {
      const mine = dr.filter((s) => s.tags['kura:source-account'] === account);
      expect(mine.filter((s) => s.status === 'available').length).toBeGreaterThanOrEqual(3);
      for (const s of mine) {
        expect(s.id).toMatch(new RegExp(`^kura-${db}-\\d{12}-${account}-${region}$`));
        expect(s.tags['kura:copy-of']).toBe(`${REGION}:${s.id}`);
      }
      expect(mine.map((s) => s.id)).toContain(`kura-${db}-${stamp(addDays(day0, 4))}-${account}-${region}`);
    }
  });

  it('refuses, naming the key, a source snapshot whose key policy does not let the backup account use it; nothing is shared or copied', async () => {
    // Prepare: source keys with the default policy (their own account only)
    const { policy, db, sourceKeys } = await fixture({ sourceKeyAllowsBackup: false });
    await invoke(day0, policy);

    // Act: the next day the first snapshot is available
    const result = await invoke(addDays(day0, 1), policy);

    // Assess
    const mine = result.targets.filter((t) => t.target.endsWith(`/${db}`));
    expect(mine.map((t) => [t.status, t.error?.name])).toEqual([
      ['failed', 'SourceKeyNotShareableError'],
      ['failed', 'SourceKeyNotShareableError'],
    ]);
    expect(mine[0]?.error?.message).toContain(sourceKeys.a);
    expect(mine[0]?.error?.message).toContain(`does not name the backup account ${BACKUP}`);
    expect(await manualSnapshots(backup, db)).toEqual([]);
    expect((await manualSnapshots(a, db)).length).toBe(2);
  });

  it('keepInSource 0 leaves no handed-over snapshot in the source; the policy refuses a negative one', async () => {
    const { policy, db } = await fixture({ keepInSource: 0 });
    for (let d = 0; d < 4; d++) await invoke(addDays(day0, d), policy);

    // Only snapshots still on their way remain: today's (creating) and yesterday's (its copy is copying).
    const inSource = await manualSnapshots(a, db);
    expect(inSource.map((s) => s.id).sort()).toEqual([
      `kura-${db}-${stamp(addDays(day0, 2))}`,
      `kura-${db}-${stamp(addDays(day0, 3))}`,
    ]);
    const bad = structuredClone(policy) as unknown as { database: { keepInSource: number } };
    bad.database.keepInSource = -1;
    expect(() => parsePolicy(bad, 'bad')).toThrow(/database\.keepInSource.*expected at least 0/s);
  });

  it('the emulator refuses what RDS refuses: an encrypted snapshot made public, a snapshot under aws/rds shared', async () => {
    // Prepare: as source A's administrator, snapshots of a database under a customer key and of one under aws/rds
    const sfx = uniqueSuffix();
    const key = await customerKey(a, SOURCE_A, [BACKUP]);
    const rds = a.get(RDSClient);
    const snapshotOf = async (db: string, KmsKeyId: string) => {
      await createDatabase(a, db, {}, { StorageEncrypted: true, KmsKeyId });
      const id = `${db}-snap`;
      await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: db, DBSnapshotIdentifier: id }));
      clock.set(new Date(clock.now().getTime() + DAY));
      return id;
    };
    clock.set(day0);
    const own = await snapshotOf(`cmk-${sfx}`, key);
    const managed = await snapshotOf(`awsrds-${sfx}`, 'alias/aws/rds');
    const share = (id: string, account: string) =>
      rds.send(
        new ModifyDBSnapshotAttributeCommand({
          DBSnapshotIdentifier: id,
          AttributeName: 'restore',
          ValuesToAdd: [account],
        }),
      );

    // Act and assess
    await expect(share(own, 'all')).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(share(managed, BACKUP)).rejects.toThrow(/AWS managed key .*cannot be shared/);
    await expect(share(own, BACKUP)).resolves.toBeDefined();
  });
});

describe('an Aurora cluster in a source account', () => {
  it('is handed over at cluster level: its cluster snapshot copied into the backup account re-encrypted, released in the source', async () => {
    // Prepare: an encrypted Aurora cluster in source A, tagged like the fixture's databases
    const { policy, sourceKeys } = await fixture();
    // A long cluster id (AWS allows 63): its snapshot ids must fit a cluster snapshot's 63 too,
    // in the source and, with account and region added, in the backup account.
    const cluster = `aurora-analytics-warehouse-reporting-replica-${uniqueSuffix()}`;
    await a.get(RDSClient).send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: cluster,
        Engine: 'aurora-mysql',
        MasterUsername: 'admin',
        MasterUserPassword: 'source-password-1',
        BackupRetentionPeriod: 7,
        StorageEncrypted: true,
        KmsKeyId: sourceKeys.a,
        Tags: [{ Key: 'kura:backup', Value: policy.selector.tagValue }],
      }),
    );
    const clusterSnapshots = async (c: Clients) =>
      (
        (
          await c
            .get(RDSClient)
            .send(
              new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: cluster, SnapshotType: 'manual' }),
            )
        ).DBClusterSnapshots ?? []
      ).map((x) => ({ id: x.DBClusterSnapshotIdentifier, status: x.Status, kmsKeyId: x.KmsKeyId }));

    // Act: four daily runs
    const results: RunResult[] = [];
    for (let d = 0; d < 4; d++) results.push(await invoke(addDays(day0, d), policy));

    // Assess
    const mine = results.flatMap((r) => r.targets.filter((t) => t.target.endsWith(`/${cluster}`)));
    expect(mine.map((t) => [t.status, t.kind])).toEqual(results.map(() => ['ok', 'cluster']));
    const copies = await clusterSnapshots(backup);
    const ends = (ids: (string | undefined)[], tails: string[]) => {
      expect(ids).toHaveLength(tails.length);
      for (const [i, id] of [...ids].sort().entries()) {
        expect(id?.length).toBeLessThanOrEqual(63);
        expect(id).toMatch(/^kura-aurora-/);
        expect(id?.endsWith(tails[i] ?? '?')).toBe(true);
      }
    };
    ends(
      copies.map((c) => c.id),
      [0, 1, 2].map((d) => `-${stamp(addDays(day0, d))}-${SOURCE_A}-${REGION}`),
    );
    for (const c of copies) expect(c.kmsKeyId).toContain(`:${BACKUP}:`);
    ends(
      (await clusterSnapshots(a)).map((c) => c.id),
      [2, 3].map((d) => `-${stamp(addDays(day0, d))}`),
    );
  });
});

describe('an orchestrated database restore with two source accounts', () => {
  it("starts from the backup account's copy, of the account the request names; an ambiguous name is refused naming both", async () => {
    // Prepare: three daily runs a few days back; then the source administrator of B deletes every snapshot there
    const { policy, db } = await fixture({ vault: true });
    const now = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    for (const days of [4, 3, 2]) await invoke(addDays(now, -days), policy);
    clock.set(now);
    for (const s of await manualSnapshots(b2, db))
      await b2.get(RDSClient).send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: s.id }));
    const deps = { policy, clients: backup };
    const id = `srcdb-${uniqueSuffix()}`;
    const request = (account?: string) => ({
      id,
      reason: 'INC-16: restore from the backup account',
      database: { instance: db, snapshot: 'latest', ...(account ? { account } : {}) },
    });

    // Act: without the account, then naming source B
    const ambiguous = await runRestoreLocally({ ...request(), id: `${id}-x` }, { deps });
    const out = await runRestoreLocally(request(SOURCE_B), { deps });

    // Assess
    expect(ambiguous.status).toBe('FAILED');
    expect(ambiguous.cause).toContain(
      `${db} is the name of a database in more than one source account (${SOURCE_A}, ${SOURCE_B}); expected database.account`,
    );
    expect(out.status, out.cause).toBe('SUCCEEDED');
    const report = await new S3RestoreStore(backup, policy.vault.bucket).get<RestoreReport>(
      id,
      'report.json',
    );
    const rp = report?.items[0]?.recoveryPoint;
    expect(rp?.id).toBe(`kura-${db}-${stamp(addDays(now, -3))}-${SOURCE_B}-${SOURCE_B_SECOND_REGION}`);
  });
});
