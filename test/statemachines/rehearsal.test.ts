// The yearly rehearsal (schedules.rehearsal): what its schedule starts, the
// restore state machine (statemachines/restore.asl.yml, run locally from the
// same file) with the request `rehearsal: true` at one point in time. It
// restores every class the policy backs up from a week of real backups, then
// takes the rehearsal path: the monthly validation's checks on what it
// restored, the cleanup of everything it made, and a sealed report in the
// rehearsals' own hash chain beside the monthly reports, with each class's
// restore time against validation.rto and the whole system's against
// systemMinutes. An on-call restore goes past that path. The monthly
// validation runs over the same week too: every class's item in its own
// function (validation-<class>), each as its own role.
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFunction } from '../../local/iam/principals.ts';
import { runRestoreLocally } from '../../local/restore.ts';
import { runStateMachine } from '../../local/state-machine-runner.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { getSealedText } from '../../shared/aws/seals.ts';
import { listRehearsalReports, listReports } from '../../shared/aws/validation-reports.ts';
import { VaultStore } from '../../shared/aws/vault-objects.ts';
import { rehearsalRequest } from '../../shared/domain/schedules.ts';
import { type ValidationReport, verifyChain } from '../../shared/domain/validation-report.ts';
import { connectIsolated } from '../../shared/restore/isolated-network.ts';
import { listManagedInIsolated } from '../../shared/aws/isolated-leftovers.ts';
import { rehearsalId } from '../../shared/restore/request.ts';
import { rehearsals } from '../../shared/usecases/report-compliance.ts';
import type { RestoreState } from '../../shared/usecases/restore.ts';
import { reportKey } from '../../shared/usecases/validation.ts';
import { type World, world } from '../support/all-classes.ts';
import { clock, uniqueSuffix } from '../support/emulator.ts';

let w: World;

/** What the schedule gives: its time, a moment before the restore's plan runs (minutes back, one id each). */
const scheduledAt = (minutesBack: number) =>
  new Date(Math.floor(Date.now() / 60_000) * 60_000 - minutesBack * 60_000);

beforeAll(async () => {
  w = await world((p) => {
    p.schedules.rehearsal = 'cron(0 10 15 2 ? *)';
    // Smaller than a generation: the monthly validation restores a sample, a rehearsal all of it.
    if (p.validation) p.validation.contentSample = 2;
  });
  // The deployed stack has the alert topic; the emulator gets it here.
  await w.clients
    .get(SNSClient)
    .send(new CreateTopicCommand({ Name: w.deps.policy.notifications?.topicName ?? 'kura-alerts' }));
}, 300_000);

async function rehearse(at: Date, deps: Deps = w.deps) {
  const visited: string[] = [];
  clock.set(new Date()); // the rehearsal runs now, after the backups
  const out = await runRestoreLocally(rehearsalRequest(at.toISOString()), {
    deps,
    onEvent: (e) => e.type === 'StateEntered' && e.state && visited.push(e.state),
  });
  const body = await new VaultStore(w.clients, w.deps.policy).getText(
    reportKey(w.deps.policy, rehearsalId(at)),
  );
  return { out, visited, report: body ? (JSON.parse(body) as ValidationReport) : undefined };
}

async function leftInIsolated(runId?: string): Promise<string[]> {
  const target = await connectIsolated(await asFunction('validation-step', w.deps));
  return (await listManagedInIsolated(target, runId)).map((l) => `${l.type} ${l.id} ${l.state ?? ''}`);
}

describe('yearly rehearsal through the restore state machine', () => {
  it('restores every class at one time, checks it, cleans up and chains a sealed report with the RTO per class and of the system', async () => {
    // Prepare: the schedule fires now, after the week of backups.
    const at = scheduledAt(2);

    // Act
    const { out, visited, report } = await rehearse(at);

    // Assess: the restore of every class, then the rehearsal path to its end.
    expect(out.status, `${out.error}: ${out.cause}`).toBe('SUCCEEDED');
    for (const s of ['Restored', 'RehearsalPlan', 'RehearsalChecks', 'RehearsalCleanup', 'RehearsalReport'])
      expect(visited).toContain(s);
    expect(visited).toContain('Rehearsed');
    expect(visited).not.toContain('Report');
    if (!report) throw new Error('no rehearsal report');
    expect(report.runId).toBe(rehearsalId(at));
    expect(report.verdict, report.problems.join('; ')).toBe('PASS');
    expect(report.rehearsal?.reason).toBe('yearly rehearsal');
    expect(report.items.map((i) => i.class).sort()).toEqual(['content', 'database', 'image', 'logs']);
    for (const i of report.items) {
      expect(i.status, `${i.class}: ${i.reason}`).toBe('pass');
      // The checks ran on what the restore made, and its cleanup removed what it recorded.
      expect(i.checks.length, i.class).toBeGreaterThan(0);
      expect(i.checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(i.cleanup.status, i.class).toBe('done');
      // Each class's restore time, from the restore's own records, against its target.
      expect(i.restore?.durationSeconds).toEqual(expect.any(Number));
      expect(i.restore?.rtoMinutes).toBe(i.class === 'image' ? 180 : 30);
      expect(i.objectives?.find((o) => o.objective === 'RTO')?.status).toBe('pass');
    }
    // Content: the whole generation restored and checked, not the validation's sample of 2.
    const content = report.items.find((i) => i.class === 'content');
    expect(content?.checks.find((c) => c.name === 'restored objects')?.detail).toMatch(
      /^(\d+) restored of \1 in the generation \(expected \1: all\)$/,
    );
    expect(content?.checks.find((c) => c.name === 'vault verify')?.status).toBe('pass');
    // The recovery points are those closest before the one time: the last day's backups.
    for (const i of report.items.filter((x) => x.class !== 'logs'))
      expect(i.recoveryPoint?.time, i.class).toBe((w.times[5] as Date).toISOString());
    // The database's RPO from point-in-time recovery: the run time minus the source's
    // LatestRestorableTime (RDS uploads transaction logs every 5 minutes), against rpoMinutes.
    const pitr = report.items
      .find((i) => i.class === 'database')
      ?.objectives?.find((o) => o.basis.startsWith('point-in-time'));
    expect(pitr?.achievedMinutes).toBeGreaterThan(0);
    expect(pitr?.achievedMinutes).toBeLessThanOrEqual(5);
    expect(pitr).toMatchObject({ targetMinutes: 5, status: 'pass' });
    // The whole system: the first restore's start to the last one's end, against systemMinutes.
    const starts = report.items.map((i) => i.restore?.startedAt ?? '').sort();
    const ends = report.items.map((i) => i.restore?.finishedAt ?? '').sort();
    expect(report.rehearsal?.system).toMatchObject({
      startedAt: starts[0],
      finishedAt: ends.at(-1),
      targetMinutes: 180,
      withinTarget: true,
    });
    expect(report.rehearsal?.system?.minutes).toBeGreaterThan(0);
    // Nothing left in the isolated account, and the restore's own record says it was cleaned.
    expect(report.leftovers).toEqual([]);
    expect(await leftInIsolated(report.runId)).toEqual([]);
    const state = await new S3RestoreStore(w.clients, w.deps.policy.vault.bucket).get<RestoreState>(
      report.runId,
      'state.json',
    );
    expect(state?.status).toBe('CLEANED');
    // Sealed, in the rehearsals' chain, never in the monthly one.
    const vault = new VaultStore(w.clients, w.deps.policy);
    expect(await getSealedText(vault, reportKey(w.deps.policy, report.runId))).toBeTruthy();
    const chain = await listRehearsalReports(w.deps);
    expect(chain.map((r) => r.key)).toEqual([reportKey(w.deps.policy, report.runId)]);
    expect((await listReports(w.deps)).filter((r) => r.key.includes('rehearsal'))).toEqual([]);
  });

  it('fails the next rehearsal, chained to the first, when the whole system takes longer than systemMinutes', async () => {
    // Prepare: a system RTO shorter than the restore of the database alone, and an RPO
    // target shorter than the transaction log upload interval.
    const strict: Deps = { ...w.deps, policy: structuredClone(w.deps.policy) };
    if (strict.policy.validation)
      strict.policy.validation.rto = { dataMinutes: 600, systemMinutes: 1, logsMinutes: 600 };
    if (strict.policy.database) strict.policy.database.rpoMinutes = 1;
    const at = scheduledAt(1);

    // Act
    const { out, visited, report } = await rehearse(at, strict);

    // Assess
    expect(out.status).toBe('FAILED');
    expect(visited.slice(-2)).toEqual(['NotifyRehearsalFailure', 'RehearsalFailed']);
    expect(report?.verdict).toBe('FAIL');
    expect(report?.rehearsal?.system?.withinTarget).toBe(false);
    expect(report?.problems.join(' ')).toMatch(
      /the whole system took [\d.]+ min to restore, over the system RTO of 1 min/,
    );
    const pitr = report?.items
      .find((i) => i.class === 'database')
      ?.objectives?.find((o) => o.basis.startsWith('point-in-time'));
    expect(pitr).toMatchObject({ targetMinutes: 1, status: 'fail' });
    // Still cleaned up, and chained to the first rehearsal.
    expect(await leftInIsolated(report?.runId)).toEqual([]);
    const chain = await listRehearsalReports(w.deps);
    expect(chain).toHaveLength(2);
    expect(verifyChain(chain).ok).toBe(true);
    expect(report?.previous?.key).toBe(chain[0]?.key);
    // The compliance report's rehearsal evidence is the rehearsal report, once per rehearsal:
    // the failed one's restore, which itself succeeded, does not count as a rehearsal.
    const evidence = await rehearsals(
      new S3RestoreStore(w.clients, w.deps.policy.vault.bucket),
      () => listRehearsalReports(w.deps),
      [],
    );
    const mine = evidence.filter((e) => e.requestId.startsWith('rehearsal-'));
    expect(mine.map((e) => [e.requestId, e.status])).toEqual([
      [chain[0] ? JSON.parse(chain[0].body).runId : '', 'SUCCEEDED'],
      [report?.runId, 'FAILED'],
    ]);
  });

  it('takes no rehearsal state for an on-call restore', async () => {
    // Prepare: the same estate, restored by an operator.
    const visited: string[] = [];
    clock.set(new Date());

    // Act
    const out = await runRestoreLocally(
      { reason: 'incident: check the database as it was', database: { instance: w.db, snapshot: 'latest' } },
      { deps: w.deps, onEvent: (e) => e.type === 'StateEntered' && e.state && visited.push(e.state) },
    );

    // Assess: Restored chose the report, and the output is the restore's report as before.
    expect(out.status, out.cause).toBe('SUCCEEDED');
    expect(visited.slice(-2)).toEqual(['Restored', 'Report']);
    expect(visited.filter((s) => s.startsWith('Rehears'))).toEqual([]);
    const { requestId, status } = out.output as { requestId: string; status: string };
    expect(status).toBe('SUCCEEDED');
    expect(requestId).toMatch(/^rq-/);
    // Nothing of it is cleaned up or judged: it stays for the operator.
    expect((await leftInIsolated(requestId)).length).toBeGreaterThan(0);
  });
});

describe('the monthly validation over the same week of every class', () => {
  it("runs each class's item in its own function and role, and passes with nothing left behind", async () => {
    // Prepare: the month's run, after the week of backups (its own run id: the machine's plan input).
    const runId = `all-${uniqueSuffix()}`.slice(0, 24);
    const visited: string[] = [];
    const time = new Date();
    clock.set(time);

    // Act: the plan lists every class as validation-step's role, each item runs as its class's role.
    const out = await runStateMachine(
      'validation',
      { time: time.toISOString(), runId },
      { deps: w.deps, onEvent: (e) => e.type === 'StateEntered' && e.state && visited.push(e.state) },
    );

    // Assess
    const body = await new VaultStore(w.clients, w.deps.policy).getText(reportKey(w.deps.policy, runId));
    const report = body ? (JSON.parse(body) as ValidationReport) : undefined;
    expect(out.status, `${out.error}: ${out.cause}; ${report?.problems.join('; ')}`).toBe('SUCCEEDED');
    for (const cls of ['Database', 'Image', 'Content', 'Logs'])
      for (const step of ['Restore', 'Check', 'Cleanup']) expect(visited).toContain(`${step}${cls}`);
    expect(report?.verdict, report?.problems.join('; ')).toBe('PASS');
    expect(report?.items.map((i) => `${i.class} ${i.status}`).sort()).toEqual([
      'content pass',
      'database pass',
      'image pass',
      'logs pass',
    ]);
    expect(await leftInIsolated(runId)).toEqual([]);
  });
});
