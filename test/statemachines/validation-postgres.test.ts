// The validation state machine on a PostgreSQL database: the SQL probes run
// by the isolated account's probe runner, invoked across accounts through the
// kura-restore role (the front layer authorizes the invoke, then plays the
// runner in-process as its own role), against a real PostgreSQL standing in
// for the restored endpoint; and a runner that cannot reach its database
// fails the item with the reason.
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorClients } from '../../local/iam/principals.ts';
import { runStateMachine } from '../../local/state-machine-runner.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { VaultStore } from '../../shared/aws/vault-objects.ts';
import type { ValidationReport } from '../../shared/domain/validation-report.ts';
import { reportKey } from '../../shared/usecases/validation.ts';
import type { CheckPorts } from '../../shared/validation/checks/types.ts';
import { clock } from '../support/emulator.ts';
import { validationDatabase } from '../support/functions.ts';
import { requestsOf } from '../support/iam.ts';
import { asPostgresAdmin, type Postgres, startPostgres } from '../support/postgres.ts';
import { tool, toolOrSkip } from '../support/tools.ts';
import {
  databaseWithSnapshot,
  standInDatabases,
  validationDeps,
  validationPolicy,
} from '../support/validation-fixture.ts';

const DB = 'ledger-db';
const SNAPSHOT_TIME = new Date('2026-10-31T19:00:00Z');
const withPostgres = tool('postgresql').path !== undefined;

async function reportOf(deps: Deps, runId: string): Promise<ValidationReport> {
  const body = await new VaultStore(deps.clients, deps.policy).getText(reportKey(deps.policy, runId));
  if (!body) throw new Error(`no report for ${runId}`);
  return JSON.parse(body) as ValidationReport;
}

async function secretsLeft(deps: Deps): Promise<string[]> {
  const iso = deps.policy.isolatedAccount;
  const admin = await operatorClients(iso?.accountId ?? '', deps.clients, iso?.region ?? deps.policy.region);
  const out = await admin.get(SecretsManagerClient).send(new ListSecretsCommand({}));
  return (out.SecretList ?? []).map((s) => s.Name ?? '').filter((n) => n.startsWith('rds!'));
}

describe('validation of a PostgreSQL database through the probe runner', () => {
  let deps: Deps & { topicArn: string };
  let pg: Postgres | undefined;
  let ports: CheckPorts = {};

  beforeAll(async () => {
    deps = await validationDeps(
      validationPolicy((p) => {
        p.validation = {
          rto: { dataMinutes: 30, systemMinutes: 180, logsMinutes: 30 },
          contentSample: 50,
          sqlProbes: [
            { name: 'entries', kind: 'rowCount', sql: 'SELECT COUNT(*) FROM ledger.entries', min: 2 },
            {
              name: 'entries-newest',
              kind: 'latestRowAge',
              sql: 'SELECT MAX(booked_at) FROM ledger.entries',
              maxAgeMinutes: 60,
            },
          ],
        };
      }),
    );
    await databaseWithSnapshot(deps, DB, SNAPSHOT_TIME, { Engine: 'postgres', EngineVersion: '16.4' });
    if (withPostgres) {
      pg = await startPostgres();
      await asPostgresAdmin(pg, [
        'CREATE SCHEMA ledger',
        'CREATE TABLE ledger.entries (id SERIAL PRIMARY KEY, booked_at TIMESTAMP NOT NULL)',
        "INSERT INTO ledger.entries (booked_at) VALUES ('2026-10-31 18:40:00'), ('2026-10-31 18:57:00')",
      ]);
    }
  });

  afterAll(async () => {
    await pg?.stop();
  });

  const run = async (time: Date) => {
    clock.set(time);
    return runStateMachine(
      'validation',
      { time: time.toISOString() },
      {
        deps,
        taskOverrides: { CheckDatabase: (input, d) => validationDatabase(input, d, { ports }) },
        integrations: { 'arn:aws:states:::sns:publish': async () => ({}) },
      },
    );
  };

  it("runs the probes inside the isolated account as the runner role, and RDS removes the copy's secret at cleanup", async (ctx) => {
    toolOrSkip(ctx, 'postgresql');
    // Prepare
    ports = await standInDatabases({ postgres: pg });

    // Act
    const { requests, result: out } = await requestsOf(() => run(new Date('2026-11-01T00:00:00Z')));

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    const item = (await reportOf(deps, '202611010000')).items.find((i) => i.class === 'database');
    expect(item?.checks.filter((c) => c.name.startsWith('sql')).map((c) => [c.name, c.status])).toEqual([
      ['sql:entries', 'pass'],
      ['sql:entries-newest', 'pass'],
    ]);
    expect(item?.achievedRpoMinutes).toBe(3);
    const invoke = requests.find((r) => r.operation === 'lambda:Invoke');
    expect(invoke?.principal).toBe('kura-restore (isolated)');
    expect(invoke?.needs[0]?.resource).toMatch(/^arn:aws:lambda:[^:]+:\d{12}:function:kura-probe-runner$/);
    const read = requests.find((r) => r.operation === 'secretsmanager:GetSecretValue');
    expect(read?.principal).toBe('ProbeRunnerRole');
    expect(read?.needs[0]?.deciding).toEqual([
      'ProbeRunnerRole/kura-probe-runner#ReadTheSecretOfARestoredCopy',
    ]);
    // The validation function never reads the password: only the runner does.
    expect(
      requests.filter((r) => r.operation === 'secretsmanager:GetSecretValue').map((r) => r.principal),
    ).toEqual(['ProbeRunnerRole']);
    expect(await secretsLeft(deps)).toEqual([]);
  });

  it('fails the database item with the reason when the runner cannot reach the restored database', async () => {
    // Prepare: the restored endpoint leads nowhere (nothing listens where it points)
    ports = await standInDatabases({
      postgres: { host: '127.0.0.1', port: 9, user: 'kura_admin', password: 'x', stop: async () => {} },
    });

    // Act
    const out = await run(new Date('2026-12-01T00:00:00Z'));

    // Assess
    expect(out.status).toBe('FAILED');
    const report = await reportOf(deps, '202612010000');
    expect(report.verdict).toBe('FAIL');
    const item = report.items.find((i) => i.class === 'database');
    const probes = item?.checks.find((c) => c.name === 'sql probes');
    expect(probes?.status).toBe('fail');
    expect(probes?.detail).toMatch(/ECONNREFUSED/);
    expect(item?.cleanup.status).toBe('done');
    expect(await secretsLeft(deps)).toEqual([]);
  });
});
