import { asFunction, operatorClients } from '../../local/iam/principals.ts';
// The validation state machine (statemachines/validation.asl.yml) run through
// every path with aws-local-stepfunctions, tasks routed to the in-process
// handlers, against the shared emulator with AWS's timing (the execution's
// Wait states and retries move the simulated clock while copies and restored
// databases become available): the same file that is deployed.

import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateDBInstanceCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validationDatabase } from '../support/functions.ts';
import { type LocalTask, runStateMachine } from '../../local/state-machine-runner.ts';
import { Clients } from '../../shared/aws/clients.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { listReports } from '../../shared/aws/validation-reports.ts';
import { VaultStore } from '../../shared/aws/vault-objects.ts';
import { fromTagList, TAG } from '../../shared/domain/tags.ts';
import { type ValidationReport, verifyChain } from '../../shared/domain/validation-report.ts';
import { restoredName } from '../../shared/domain/naming.ts';
import { connectIsolated } from '../../shared/restore/isolated-network.ts';
import { listManagedInIsolated } from '../../shared/aws/isolated-leftovers.ts';
import { reportKey } from '../../shared/usecases/validation.ts';
import type { CheckPorts } from '../../shared/validation/checks/types.ts';
import { clock } from '../support/emulator.ts';
import { asRoot, type MariaDb, startMariaDb } from '../support/mariadb.ts';
import { tool, toolOrSkip } from '../support/tools.ts';
import {
  databaseWithSnapshot,
  standInDatabases,
  validationDeps,
  validationPolicy,
} from '../support/validation-fixture.ts';
import { ROLE_TAG } from '../../shared/aws/isolated-network.ts';

// The SQL probes need a MariaDB server standing in for the restored endpoint;
// without one, the check that asserts them is skipped with the reason (failed under CI).
const withMariaDb = tool('mariadb').path !== undefined;

const DB = 'shop-db';
const SNAPSHOT_TIME = new Date('2026-10-31T19:00:00Z'); // 04:00 Tokyo on 1 November
const MONTH_START = (n: number) => new Date(Date.UTC(2026, 10 + n, 1, 0, 0)); // 09:00 Tokyo on the 1st

/** Tasks of the Map that need the check ports (the SQL probe's stand-in endpoint). */
function withPorts(ports: CheckPorts): Record<string, LocalTask> {
  return { CheckDatabase: (input, deps) => validationDatabase(input, deps, { ports }) };
}

async function reportOf(deps: Deps, runId: string): Promise<ValidationReport> {
  const body = await new VaultStore(deps.clients, deps.policy).getText(reportKey(deps.policy, runId));
  if (!body) throw new Error(`no report for ${runId}`);
  return JSON.parse(body) as ValidationReport;
}

async function leftInIsolated(deps: Deps): Promise<string[]> {
  const target = await connectIsolated(await asFunction('validation-step', deps));
  return (await listManagedInIsolated(target)).map((l) => `${l.type} ${l.id} ${l.state}`);
}

describe('validation state machine', () => {
  let deps: Deps & { topicArn: string };
  let maria: MariaDb | undefined;
  let ports: CheckPorts = {};
  let firstRun: ValidationReport | undefined;
  const published: unknown[] = [];
  const sns: Record<string, LocalTask> = {
    'arn:aws:states:::sns:publish': async (input, d) => {
      published.push(input);
      const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns');
      const p = input as { TopicArn: string; Subject: string; Message: string };
      return d.clients.get(SNSClient).send(new PublishCommand(p));
    },
  };

  beforeAll(async () => {
    const probes = !withMariaDb
      ? []
      : [
          { name: 'orders', kind: 'rowCount' as const, sql: 'SELECT COUNT(*) FROM shop.orders', min: 1 },
          {
            name: 'orders-newest',
            kind: 'latestRowAge' as const,
            sql: 'SELECT MAX(created_at) FROM shop.orders',
            maxAgeMinutes: 60,
          },
          {
            name: 'schema',
            kind: 'migrationVersion' as const,
            sql: 'SELECT MAX(version) FROM shop.schema_migrations',
          },
        ];
    deps = await validationDeps(
      validationPolicy((p) => {
        p.validation = {
          rto: { dataMinutes: 30, systemMinutes: 180, logsMinutes: 30 },
          contentSample: 50,
          sqlProbes: probes,
        };
      }),
    );
    await databaseWithSnapshot(deps, DB, SNAPSHOT_TIME);
    if (withMariaDb) {
      maria = await startMariaDb();
      await asRoot(maria, [
        'CREATE DATABASE shop',
        'CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, created_at DATETIME NOT NULL)',
        "INSERT INTO shop.orders (created_at) VALUES ('2026-10-31 18:55:00'), ('2026-10-31 18:58:00')",
        'CREATE TABLE shop.schema_migrations (version BIGINT NOT NULL)',
        'INSERT INTO shop.schema_migrations VALUES (42)',
      ]);
      ports = await standInDatabases({ mariadb: maria });
    }
  });

  afterAll(async () => {
    await maria?.stop();
  });

  it('passes, tags the snapshot kura:validated and leaves nothing behind when everything restores and checks out', async () => {
    // Act
    const time = MONTH_START(0);
    clock.set(time);
    const out = await runStateMachine(
      'validation',
      { time: time.toISOString() },
      { deps, taskOverrides: withPorts(ports), integrations: sns },
    );

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    expect(out.visited).toEqual([
      'Plan',
      // No content item: the verify Map has no child.
      'ContentVerifyItems',
      'ContentVerify',
      'Validate',
      'ItemClass',
      'RestoreDatabase',
      'CheckDatabase',
      'CleanupDatabase',
      'Report',
      'Verdict',
      'Passed',
    ]);
    const report = await reportOf(deps, '202611010000');
    firstRun = report;
    expect(report.verdict).toBe('PASS');
    const item = report.items.find((i) => i.class === 'database');
    expect(item?.source).toBe(DB);
    expect(item?.status).toBe('pass');
    // Timed in simulated time: the isolated copy (10 min) and the restored instance (10 min)
    // took as long as on AWS, retried a minute at a time, inside the 30 minute data RTO.
    expect(item?.restore?.durationSeconds).toBeGreaterThanOrEqual(20 * 60);
    expect(item?.restore?.withinRto).toBe(true);
    expect(item?.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'available',
        'engine',
        'storage',
        'not public',
        'encrypted',
        'isolated subnet group',
      ]),
    );
    expect(item?.cleanup.status).toBe('done');
    expect(item?.markedValidated).toBe(true);
    // RPO from point-in-time recovery, read from the source at the run: within database.rpoMinutes.
    // Not zero: LatestRestorableTime trails the run by RDS's 5-minute transaction log uploads.
    const pitr = item?.objectives?.find((o) => o.basis.startsWith('point-in-time'));
    expect(pitr?.status).toBe('pass');
    expect(pitr?.achievedMinutes).toBeGreaterThan(0);
    expect(pitr?.achievedMinutes).toBeLessThanOrEqual(deps.policy.database?.rpoMinutes ?? 5);
    expect(item?.objectives?.find((o) => o.basis === 'snapshot age')?.achievedMinutes).toBe(
      (time.getTime() - SNAPSHOT_TIME.getTime()) / 60_000,
    );
    const snaps = await deps.clients
      .get(RDSClient)
      .send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: DB, SnapshotType: 'manual' }));
    expect(fromTagList(snaps.DBSnapshots?.[0]?.TagList)[TAG.validated]).toBe(time.toISOString());
    expect(report.leftovers).toEqual([]);
    expect(await leftInIsolated(deps)).toEqual([]);
    expect(published).toEqual([]);
  });

  it('ran the SQL probes on the restored database in that run, and took the RPO from its newest row', (ctx) => {
    toolOrSkip(ctx, 'mariadb');
    const item = firstRun?.items.find((i) => i.class === 'database');
    expect(item?.checks.filter((c) => c.name.startsWith('sql:')).map((c) => [c.name, c.status])).toEqual([
      ['sql:orders', 'pass'],
      ['sql:orders-newest', 'pass'],
      ['sql:schema', 'pass'],
    ]);
    expect(item?.achievedRpoMinutes).toBe(2);
  });

  it('fails with the reason, still cleans up and notifies when the database restore fails', async () => {
    // Prepare: an operator's database in the isolated account under the name the restore derives
    const time = MONTH_START(1);
    const runId = '202612010000';
    const iso = deps.policy.isolatedAccount;
    const target = await operatorClients(
      iso?.accountId ?? '',
      deps.clients,
      iso?.region ?? deps.policy.region,
    );
    const squatter = restoredName('validation', runId, DB);
    await target.get(RDSClient).send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: squatter,
        Engine: 'mysql',
        DBInstanceClass: 'db.t4g.micro',
        AllocatedStorage: 20,
        MasterUsername: 'ops',
        MasterUserPassword: 'operator-password',
      }),
    );
    published.length = 0;

    // Act
    clock.set(time);
    const out = await runStateMachine(
      'validation',
      { time: time.toISOString() },
      { deps, taskOverrides: withPorts(ports), integrations: sns },
    );

    // Assess
    expect(out.status).toBe('FAILED');
    expect(out.cause).toContain('The validation report is FAIL');
    expect(out.visited).toEqual([
      'Plan',
      // No content item: the verify Map has no child.
      'ContentVerifyItems',
      'ContentVerify',
      'Validate',
      'ItemClass',
      'RestoreDatabase',
      'CleanupDatabase',
      'Report',
      'Verdict',
      'NotifyFailure',
      'Failed',
    ]);
    const report = await reportOf(deps, runId);
    expect(report.verdict).toBe('FAIL');
    const item = report.items.find((i) => i.class === 'database');
    expect(item?.reason).toContain('restore failed');
    expect(item?.reason).toContain('refusing to adopt');
    // The share of the source snapshot this run added is removed too (policy does not share permanently).
    expect(item?.cleanup).toMatchObject({
      status: 'done',
      resources: [
        expect.stringMatching(/^kura::RDS::DBSnapshotShare kura-/),
        `AWS::RDS::DBSnapshot ${squatter}`,
      ],
    });
    expect(report.leftovers).toEqual([]);
    // The operator's database is untouched; the copy the run made is gone.
    expect(await leftInIsolated(deps)).toEqual([]);
    const still = await target
      .get(RDSClient)
      .send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }));
    expect(still.DBSnapshots?.map((s) => s.DBSnapshotIdentifier)).not.toContain(squatter);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      TopicArn: deps.topicArn,
      Subject: `kura validation ${runId}: FAIL`,
    });
    expect((published[0] as { Message: string }).Message).toContain('refusing to adopt');
  });

  it('reports nothing to validate for a class without recovery points and still passes', async () => {
    // Prepare: a policy whose selector matches no database
    const empty = {
      ...deps,
      policy: { ...deps.policy, selector: { tagKey: 'kura:backup-nothing', tagValue: 'true' } },
    };

    // Act
    clock.set(MONTH_START(2));
    const out = await runStateMachine(
      'validation',
      { time: MONTH_START(2).toISOString() },
      { deps: empty, integrations: sns },
    );

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    expect(out.visited).toEqual([
      'Plan',
      'ContentVerifyItems',
      'ContentVerify',
      'Validate',
      'Report',
      'Verdict',
      'Passed',
    ]);
    const report = await reportOf(deps, '202701010000');
    expect(report.items).toEqual([
      expect.objectContaining({
        class: 'database',
        status: 'skip',
        reason: expect.stringContaining('no kura-managed database recovery point'),
      }),
    ]);
    expect(report.classes.find((c) => c.class === 'database')?.note).toBe(
      'nothing to validate: no kura-managed recovery point',
    );
    expect(report.warnings).toContain('database: nothing to validate: no kura-managed recovery point');
  });

  it('fails clearly before anything is created when the isolated role cannot be assumed', async () => {
    // Prepare: STS refuses the role (moto lets any role be assumed, so the refusal is injected at the clients)
    class DeniedClients extends Clients {
      override async assumeRole(roleArn: string): Promise<Clients> {
        const e = new Error(
          `User: arn:aws:sts::123456789012:assumed-role/kura-validation is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        );
        e.name = 'AccessDenied';
        throw e;
      }
    }
    const freshAccount = validationPolicy();
    const denied = {
      policy: { ...deps.policy, isolatedAccount: freshAccount.isolatedAccount },
      clients: new DeniedClients({ region: deps.policy.region }),
    };
    published.length = 0;

    // Act
    clock.set(MONTH_START(3));
    const out = await runStateMachine(
      'validation',
      { time: MONTH_START(3).toISOString() },
      // The refusal is the injected one: the tasks keep the denying clients.
      { deps: denied, integrations: sns, principals: false },
    );

    // Assess
    expect(out.status).toBe('FAILED');
    expect(out.visited).toEqual(['Plan', 'Report', 'Verdict', 'NotifyFailure', 'Failed']);
    const report = await reportOf(deps, '202702010000');
    expect(report.verdict).toBe('FAIL');
    expect(report.problems[0]).toMatch(
      /^plan failed, nothing was restored: IsolatedAccessError: cannot assume arn:aws:iam::\d{12}:role\/kura-restore with external id "kura-test": AccessDenied/,
    );
    expect(published).toHaveLength(1);
    // Nothing exists in that isolated account: not even the isolated network.
    const iso = await operatorClients(
      freshAccount.isolatedAccount?.accountId ?? '',
      deps.clients,
      deps.policy.region,
    );
    const vpcs = await iso
      .get(EC2Client)
      .send(
        new DescribeVpcsCommand({ Filters: [{ Name: `tag:${ROLE_TAG}`, Values: ['isolated-network'] }] }),
      );
    expect(vpcs.Vpcs).toEqual([]);
    expect(await listManagedInIsolated({ clients: iso, region: deps.policy.region })).toEqual([]);
  });

  it('chains every report to the one before it, so that changing one is detected', async () => {
    // Act
    const reports = await listReports(deps);
    const chain = verifyChain(reports);
    const tampered = reports.map((r, i) =>
      i === 1 ? { ...r, body: r.body.replace('"FAIL"', '"PASS"') } : r,
    );

    // Assess
    expect(reports.length).toBeGreaterThanOrEqual(4);
    expect(chain.ok).toBe(true);
    expect(verifyChain(tampered).ok).toBe(false);
    expect(verifyChain(tampered).problems[0]).toContain(reports[2]?.key);
  });
});
