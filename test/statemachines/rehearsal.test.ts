// The yearly rehearsal (schedules.rehearsal): the validation state machine in
// rehearsal mode, run from the same ASL file: every class restored at one
// point in time into the isolated account, the data checked (SQL probes by the
// runner inside the isolated network), each class timed against its RTO and
// the whole system against systemMinutes, everything cleaned up, and a
// report with the reason "yearly rehearsal" in its own hash chain beside the
// monthly reports, which `kura report validation` shows and verifies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asFunction } from '../../local/iam/principals.ts';
import { runStateMachine } from '../../local/state-machine-runner.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { listRehearsalReports, listReports } from '../../shared/aws/validation-reports.ts';
import { historyHtml, validationHistory } from '../../shared/domain/reports/validation-history.ts';
import { type ValidationReport, verifyChain } from '../../shared/domain/validation-report.ts';
import { connectIsolated } from '../../shared/restore/isolated-network.ts';
import { listManagedInIsolated } from '../../shared/restore/leftovers.ts';
import type { CheckPorts } from '../../shared/validation/checks/types.ts';
import { clock } from '../support/emulator.ts';
import { validationStep } from '../support/functions.ts';
import { asRoot, type MariaDb, startMariaDb } from '../support/mariadb.ts';
import { tool } from '../support/tools.ts';
import {
  databaseWithSnapshot,
  standInDatabases,
  validationDeps,
  validationPolicy,
} from '../support/validation-fixture.ts';

const DB = 'rehearsal-db';
const withMariaDb = tool('mariadb').path !== undefined;

describe('yearly rehearsal', () => {
  let deps: Deps & { topicArn: string };
  let maria: MariaDb | undefined;
  let ports: CheckPorts = {};

  beforeAll(async () => {
    deps = await validationDeps(
      validationPolicy((p) => {
        p.schedules.rehearsal = 'cron(0 10 15 2 ? *)';
        p.validation = {
          rto: { dataMinutes: 30, systemMinutes: 180, logsMinutes: 30 },
          contentSample: 50,
          sqlProbes: withMariaDb
            ? [{ name: 'orders', kind: 'rowCount', sql: 'SELECT COUNT(*) FROM shop.orders', min: 1 }]
            : [],
        };
      }),
    );
    await databaseWithSnapshot(deps, DB, new Date('2027-02-14T19:00:00Z'));
    if (withMariaDb) {
      maria = await startMariaDb();
      await asRoot(maria, [
        'CREATE DATABASE shop',
        'CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, created_at DATETIME NOT NULL)',
        "INSERT INTO shop.orders (created_at) VALUES ('2027-02-14 18:55:00')",
      ]);
      ports = await standInDatabases({ mariadb: maria });
    }
  });

  afterAll(async () => {
    await maria?.stop();
  });

  const rehearse = async (time: Date) => {
    clock.set(time);
    return runStateMachine(
      'validation',
      // What the rehearsal schedule sends (deploy/template.ts): the scheduled time and rehearsal: true.
      {
        source: 'kura.scheduler',
        'detail-type': 'Scheduled Event',
        time: time.toISOString(),
        detail: {},
        rehearsal: true,
      },
      {
        deps,
        taskOverrides: { Check: (input, d) => validationStep(input, d, { ports }) },
        integrations: { 'arn:aws:states:::sns:publish': async () => ({}) },
      },
    );
  };

  it('restores every class at one point in time, times the whole system, cleans up and writes a "yearly rehearsal" report in its own chain', async () => {
    // Act
    const out = await rehearse(new Date('2027-02-15T01:00:00Z'));

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    const rehearsals = await listRehearsalReports(deps);
    expect(rehearsals.map((r) => r.key)).toEqual([
      `${deps.policy.vault.reportsPrefix}rehearsal/rehearsal-202702150100/report.json`,
    ]);
    const report = JSON.parse(rehearsals[0]?.body ?? '{}') as ValidationReport;
    expect(report.verdict).toBe('PASS');
    expect(report.rehearsal?.reason).toBe('yearly rehearsal');
    const item = report.items.find((i) => i.class === 'database');
    expect(item?.status).toBe('pass');
    // The whole system: the first restore's start to the last one's end, against systemMinutes.
    expect(report.rehearsal?.system).toMatchObject({
      startedAt: item?.restore?.startedAt,
      finishedAt: item?.restore?.finishedAt,
      targetMinutes: 180,
      withinTarget: true,
    });
    expect(report.rehearsal?.system?.minutes).toBe((item?.restore?.durationSeconds ?? 0) / 60);
    if (withMariaDb) expect(item?.checks.find((c) => c.name === 'sql:orders')?.status).toBe('pass');
    expect(report.leftovers).toEqual([]);
    const target = await connectIsolated(await asFunction('validation-step', deps));
    expect(await listManagedInIsolated(target)).toEqual([]);
    // Beside the monthly reports, never in their chain.
    expect((await listReports(deps)).filter((r) => r.key.includes('rehearsal'))).toEqual([]);
  });

  it('chains the next rehearsal to the one before and shows both in the validation history', async () => {
    // Act
    const out = await rehearse(new Date('2028-02-15T01:00:00Z'));

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    const rehearsals = await listRehearsalReports(deps);
    expect(rehearsals).toHaveLength(2);
    expect(verifyChain(rehearsals).ok).toBe(true);
    const second = JSON.parse(rehearsals[1]?.body ?? '{}') as ValidationReport;
    expect(second.previous?.key).toBe(rehearsals[0]?.key);
    const h = validationHistory(await listReports(deps), new Date('2028-02-16T00:00:00Z'));
    const rh = validationHistory(rehearsals, new Date('2028-02-16T00:00:00Z'));
    const html = historyHtml(h, rh);
    expect(html).toContain('Yearly rehearsals');
    expect(html).toContain('rehearsal-202802150100');
    expect(rh.runs[1]?.system?.withinTarget).toBe(true);
  });

  it('fails the rehearsal when the whole system takes longer than systemMinutes', async () => {
    // Prepare: a system RTO shorter than the database's own restore
    const strict = { ...deps, policy: structuredClone(deps.policy) };
    if (strict.policy.validation)
      strict.policy.validation.rto = { dataMinutes: 60, systemMinutes: 5, logsMinutes: 30 };
    clock.set(new Date('2029-02-15T01:00:00Z'));

    // Act
    const out = await runStateMachine(
      'validation',
      { time: '2029-02-15T01:00:00.000Z', rehearsal: true },
      {
        deps: strict,
        taskOverrides: { Check: (input, d) => validationStep(input, d, { ports }) },
        integrations: { 'arn:aws:states:::sns:publish': async () => ({}) },
      },
    );

    // Assess
    expect(out.status).toBe('FAILED');
    const last = JSON.parse((await listRehearsalReports(deps)).at(-1)?.body ?? '{}') as ValidationReport;
    expect(last.runId).toBe('rehearsal-202902150100');
    expect(last.verdict).toBe('FAIL');
    expect(last.rehearsal?.system?.withinTarget).toBe(false);
    expect(last.problems.join(' ')).toMatch(
      /the whole system took [\d.]+ min to restore, over the system RTO of 5 min/,
    );
  });
});
