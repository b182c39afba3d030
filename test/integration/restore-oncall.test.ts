// Integration (on-call): a database restore that can be reached and cleaned
// up. The result names the route in (Session Manager through endpoints in the
// isolated VPC and a jump host), the user and where its fresh password is
// (never printed, not production's); a resumed restore re-checks that what it
// made still exists; `restore status` reads live state; `restore export`
// dumps chosen rows to the vault through the port forward; `restore cleanup`
// removes everything, in every account, and refuses to resume afterwards.
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DescribeSecurityGroupsCommand, DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DeleteDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { stringify } from 'yaml';
import { operatorClients } from '../../local/iam/principals.ts';
import { runRestoreLocally } from '../../local/restore.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { ACCESS_SERVICES } from '../../shared/restore/access.ts';
import { listManagedInIsolated } from '../../shared/aws/isolated-leftovers.ts';
import type { RestoreReport } from '../../shared/restore/plan.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { awsCleanupPorts } from '../../shared/edge/restore-ports.ts';
import type { ItemOutput, RestoreState } from '../../shared/usecases/restore.ts';
import { type CleanupResult, planCleanup, runCleanup } from '../../shared/usecases/restore-cleanup.ts';
import type { ExportResult } from '../../shared/usecases/restore-export.ts';
import { restore, restoreItemOf } from '../support/functions.ts';
import { allowedActions, operatorProfileEnv, requestsOf } from '../support/iam.ts';
import { clock, emulatorClients } from '../support/emulator.ts';
import { runKura } from '../support/kura-cli.ts';
import { addReader, type MariaDb, startMariaDb } from '../support/mariadb.ts';
import { databaseWithSnapshots, restorePolicy } from '../support/restore.ts';
import { toolOrSkip } from '../support/tools.ts';
import { isolationFindings } from '../../shared/aws/isolated-network.ts';

const hoursAgo = (h: number) => new Date(Math.floor((Date.now() - h * 3600_000) / 60_000) * 60_000);

let clients: Clients;
let isolated: Clients;
let deps: Deps;
let db: string;
let policyFile: string;
const ID = `oncall-${Math.random().toString(36).slice(2, 8)}`;
const request = () => ({
  id: ID,
  reason: 'INC-4711: orders deleted by mistake',
  database: { instance: db, snapshot: 'latest' },
});
const iso = () => deps.policy.isolatedAccount?.accountId ?? '';
/** The CLI as the on-call engineer runs it: default credentials, plus the isolated account's profile. */
let profileEnv: Record<string, string> = {};
const kura = (...args: string[]) =>
  runKura(['--policy', policyFile, ...args], { ...profileEnv, KURA_ISOLATED_PROFILE: 'kura-isolated' });
const report = () =>
  new S3RestoreStore(clients, deps.policy.vault.bucket).get<RestoreReport>(ID, 'report.json');
const instanceOf = async (id: string) =>
  (await isolated.get(RDSClient).send(new DescribeDBInstancesCommand({}))).DBInstances?.find(
    (i) => i.DBInstanceIdentifier === id,
  );

beforeAll(async () => {
  clients = emulatorClients();
  // An isolated account of its own: the access route's instance profile has a fixed name (kura-access).
  const account = `2${String(randomInt(10 ** 10, 10 ** 11 - 1))}`;
  const policy = await restorePolicy(clients, (p) => {
    p.isolatedAccount = {
      accountId: account,
      roleArn: `arn:aws:iam::${account}:role/kura-restore`,
      externalId: 'kura-isolated-restore',
      region: p.region,
    };
  });
  deps = { policy, clients };
  // Looked into as its administrator: kura-restore trusts only kura's restore and validation roles.
  // Its stack (network, route in, kura-access profile) is played when the restore's role first acts there.
  isolated = await operatorClients(account, clients, policy.region);
  profileEnv = await operatorProfileEnv(account);
  db = await databaseWithSnapshots(deps, [hoursAgo(5)]);
  policyFile = join(tmpdir(), `kura-oncall-${ID}.yml`);
  writeFileSync(policyFile, stringify(deps.policy));
  // The restore runs now, after the backup: its copy, restore and jump host take AWS's time on the file's clock.
  clock.set(new Date());
  const out = await runRestoreLocally(request(), { deps });
  if (out.status !== 'SUCCEEDED') throw new Error(`fixture restore failed: ${out.cause}`);
});

describe('the restore result says how to reach what was restored', () => {
  it('names the route in, the user and the secret, never the password, which is not production’s', async () => {
    const r = await report();
    const a = r?.items[0]?.access;
    expect(a).toMatchObject({ item: `database ${db}`, user: 'admin', port: 3306 });
    expect(a?.secret?.arn).toMatch(
      new RegExp(`^arn:aws:secretsmanager:ap-northeast-1:${iso()}:secret:rds!db-`),
    );
    expect(a?.route, JSON.stringify(a?.route)).toMatchObject({ kind: 'session-manager' });
    const route = a?.route as { via: string; commands: string[] };
    expect(route.via).toMatch(/^i-/);
    expect(route.commands[0]).toContain('--document-name AWS-StartPortForwardingSessionToRemoteHost');
    expect(route.commands[0]).toContain(a?.endpoint);
    // The secret: a fresh password kept by RDS in the isolated account, not the source's, and never written down.
    const secret = await isolated
      .get(SecretsManagerClient)
      .send(new GetSecretValueCommand({ SecretId: a?.secret?.arn }));
    const password = (JSON.parse(secret.SecretString ?? '{}') as { password: string }).password;
    expect(password).toBeTruthy();
    expect(password).not.toBe('password-123');
    const markdown = await new S3RestoreStore(clients, deps.policy.vault.bucket).get<string>(ID, 'report.md');
    expect(markdown).toContain('## How to reach what was restored');
    expect(markdown).toContain(`npx kura restore cleanup ${ID} --isolated-profile kura-isolated`);
    expect(`${markdown}${JSON.stringify(r)}`).not.toContain(password);
  });

  it('reaches the isolated VPC through Session Manager endpoints only: 443 from inside, no way out', async () => {
    const ec2 = isolated.get(EC2Client);
    const endpoints = (await ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints ?? [];
    const access = endpoints.filter((e) =>
      e.Tags?.some((t) => t.Key === 'kura:purpose' && t.Value === 'access'),
    );
    expect(access.map((e) => e.ServiceName?.split('.').at(-1)).sort()).toEqual([...ACCESS_SERVICES].sort());
    const vpc = access[0]?.VpcId ?? '';
    const groups = (
      await ec2.send(
        new DescribeSecurityGroupsCommand({ GroupIds: access[0]?.Groups?.map((g) => g.GroupId ?? '') }),
      )
    ).SecurityGroups;
    expect(groups?.[0]?.IpPermissions).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        IpRanges: [expect.objectContaining({ CidrIp: '10.213.0.0/16' })],
      }),
    ]);
    expect(await isolationFindings(isolated, vpc)).toEqual([]);
  });
});

describe('a restore whose resources are gone', () => {
  it('shows them gone in `restore status` (read live), then restores them again when resumed', async () => {
    // Prepare: someone deletes the restored copy by hand.
    const restored =
      (await report())?.items[0]?.resources.find((r) => r.type === 'AWS::RDS::DBInstance')?.id ?? '';
    await isolated
      .get(RDSClient)
      .send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: restored, SkipFinalSnapshot: true }));
    // Act
    const status = await kura('restore', 'status', ID);
    const resumed = await runRestoreLocally(request(), { deps });
    // Assess
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`AWS::RDS::DBInstance ${restored}\\s+${iso()}\\s+gone`));
    expect(resumed.status).toBe('SUCCEEDED');
    expect(await instanceOf(restored)).toBeDefined();
    const r = await report();
    expect(r?.items[0]?.rechecked?.[0]).toContain(
      `gone when the restore was resumed: AWS::RDS::DBInstance ${restored}`,
    );
  });
});

describe('kura restore status with the wrong profile', () => {
  it('names the account the profile answers for and the one expected, reading nothing there', async () => {
    // Prepare: a profile of another account (a mix-up of ~/.aws/config entries).
    const other = `3${String(randomInt(10 ** 10, 10 ** 11 - 1))}`;
    const wrong = await operatorProfileEnv(other);
    // Act
    const r = await runKura(['--policy', policyFile, 'restore', 'status', ID], {
      ...wrong,
      KURA_ISOLATED_PROFILE: 'kura-isolated',
    });
    // Assess
    expect(`${r.stdout}${r.stderr}`).toContain(
      `answered as account ${other}; expected the isolated account ${iso()}`,
    );
    expect(r.stdout).not.toMatch(new RegExp(`${iso()}\\s+(yes|gone)`));
  });
});

describe('kura restore export', () => {
  let maria: MariaDb | undefined;
  afterAll(async () => maria?.stop());
  /** The documented export, through the stand-in for the port forward. */
  const exportOrders = (port: number, table: string, ...extra: string[]) =>
    kura(
      'restore',
      'export',
      ID,
      '--database',
      db,
      '--schema',
      'shop',
      '--table',
      table,
      '--via',
      `127.0.0.1:${port}`,
      '--yes',
      ...extra,
    );

  it('dumps the chosen rows through the port forward to the vault, with the password read from the secret', async (ctx: TestContext) => {
    // Prepare: a local MariaDB stands in for the forwarded port, with the restored copy's user and password.
    toolOrSkip(ctx, 'mariadb');
    maria = await startMariaDb();
    const a = (await report())?.items[0]?.access;
    const secret = await isolated
      .get(SecretsManagerClient)
      .send(new GetSecretValueCommand({ SecretId: a?.secret?.arn }));
    const { username, password } = JSON.parse(secret.SecretString ?? '{}') as {
      username: string;
      password: string;
    };
    await addReader(maria, username, password, [
      'CREATE DATABASE shop',
      'CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40), placed DATETIME)',
      "INSERT INTO shop.orders VALUES (1, 'tea', '2026-11-22 03:00:00'), (2, 'it''s \"rice\"', '2026-11-22 03:05:00'), (3, 'miso', '2026-11-20 10:00:00')",
    ]);
    // Act
    const r = await exportOrders(
      maria.port,
      'orders',
      '--where',
      "placed >= '2026-11-22 00:00:00'",
      '--json',
    );
    // Assess
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as ExportResult;
    expect(out.database?.tables).toEqual([{ table: 'orders', rows: 2 }]);
    const [bucket, ...key] = (out.database?.location ?? '').replace('s3://', '').split('/');
    expect(bucket).toBe(deps.policy.vault.bucket);
    expect(key.join('/')).toMatch(new RegExp(`^exports/${ID}/database/${db}/\\d{12}-shop\\.sql\\.gz$`));
    const got = await clients
      .get(S3Client)
      .send(new GetObjectCommand({ Bucket: bucket, Key: key.join('/') }));
    const sql = gunzipSync(Buffer.from((await got.Body?.transformToByteArray()) ?? [])).toString('utf8');
    expect(sql).toContain('INSERT INTO `orders` (`id`, `item`, `placed`) VALUES');
    expect(sql).toContain("(2, 'it\\'s \\\"rice\\\"', '2026-11-22 03:05:00')");
    expect(sql).not.toContain('miso');
    expect(sql).toContain('--   CREATE TABLE `orders`');
    expect(`${r.stdout}${r.stderr}`).not.toContain(password);
  });

  it('refuses, before anything is written, a table that is not there, naming those that are', async (ctx: TestContext) => {
    toolOrSkip(ctx, 'mariadb');
    maria ??= await startMariaDb();
    const r = await exportOrders(maria.port, 'ordes');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--table: "ordes" not in shop; tables there: orders');
  });
});

describe('kura restore cleanup', () => {
  it('removes everything the restore made, in the isolated account as its administrator, and says what it removed', async () => {
    // Act: default (production) credentials for the source, the isolated account's profile there.
    const r = await kura('restore', 'cleanup', ID, '--yes', '--json');
    // Assess
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as CleanupResult;
    expect(out.remaining).toBe(0);
    const removed = out.entries.filter((e) => e.result === 'removed').map((e) => e.type);
    expect(removed).toEqual(
      expect.arrayContaining(['AWS::RDS::DBInstance', 'AWS::RDS::DBSnapshot', 'AWS::EC2::Instance']),
    );
    const target = { clients: isolated, accountId: iso(), region: 'ap-northeast-1' };
    expect(
      (await listManagedInIsolated(target, ID)).filter(
        (l) => !/terminated|deleting|deleted/.test(l.state ?? ''),
      ),
    ).toEqual([]);
  });

  it('leaves a restore that resumes no more: the same request is refused, naming a new id', async () => {
    const again = await runRestoreLocally(request(), { deps });
    expect(again.status).toBe('FAILED');
    expect(again.cause).toContain(`restore ${ID} was cleaned up at`);
    expect(again.cause).toContain(`--id ${ID}-2`);
  });
});

describe("the isolated account's restore role", () => {
  it('grants every call a restore makes there with it, the route in and the fresh password included', async () => {
    // Prepare: the restore's requests recorded by the IAM front layer, which authorizes each against
    // deploy/isolated-account.yml (its network made by the first restore, as the stack makes it on AWS).
    const id = `${ID}-r`;
    // The state machine's tasks, each run as its function's role (the plan as `restore`, each item
    // as its class's function), each of which assumes kura-restore.
    const store = new S3RestoreStore(clients, deps.policy.vault.bucket);
    // Act: the state machine's tasks, each item until done, waiting as its Wait state would.
    const { requests } = await requestsOf(async () => {
      await restore({ step: 'plan', request: { ...request(), id }, time: clock.now().toISOString() }, deps);
      const state = await store.get<RestoreState>(id, 'state.json');
      for (const item of state?.plan.items ?? [])
        for (;;) {
          const out = (await restoreItemOf(item.class)(
            { step: 'item', requestId: id, key: item.key },
            deps,
          )) as ItemOutput;
          if (out.done) break;
          await clock.timer().sleep((out.waitSeconds ?? 30) * 1000);
        }
    });
    // Assess: made as kura-restore and allowed by its deployed policies (test/setup.ts fails any refusal).
    const inIsolated = allowedActions(requests, 'kura-restore (isolated)');
    expect([...inIsolated]).toEqual(
      expect.arrayContaining([
        'rds:RestoreDBInstanceFromDBSnapshot',
        'rds:ModifyDBInstance',
        'ec2:DescribeVpcEndpoints',
        'ec2:RunInstances',
      ]),
    );
    expect(
      requests.filter((r) => r.principal === 'kura-restore (isolated)' && r.needs.some((n) => !n.allowed)),
    ).toEqual([]);
    // Its copy goes with the others.
    // ...by `kura restore cleanup` as the on-call engineer runs it (the isolated account's profile).
    const op = { ...deps, isolated };
    const cleanup = awsCleanupPorts(op);
    const cleaned = await runCleanup(op, await planCleanup(op, id, cleanup), cleanup);
    expect(cleaned.remaining).toBe(0);
  });
});
