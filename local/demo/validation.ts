// Demo step (validation): the monthly restore rehearsal over what the other
// demo steps backed up: the validation state machine run locally (the same
// ASL file), every latest recovery point restored into the isolated account,
// checked, cleaned up; the report from the vault, and its hash chain; then
// the yearly rehearsal (the restore machine restoring every class at one time,
// then checking, cleaning up and chaining its report) and its report.

import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { listRehearsalReports, listReports } from '../../shared/aws/validation-reports.ts';
import { VaultStore } from '../../shared/aws/vault-objects.ts';
import { occurrences } from '../../shared/domain/schedule-occurrences.ts';
import { rehearsalRequest } from '../../shared/domain/schedules.ts';
import type { ValidationReport } from '../../shared/domain/validation-report.ts';
import { rehearsalLine, verifyChain } from '../../shared/domain/validation-report.ts';
import { connectIsolated } from '../../shared/restore/isolated-network.ts';
import { asFunction } from '../iam/principals.ts';
import { listManagedInIsolated } from '../../shared/aws/isolated-leftovers.ts';
import { rehearsalId } from '../../shared/restore/request.ts';
import { reportKey, runIdFor } from '../../shared/usecases/validation.ts';
import { runRestoreLocally } from '../restore.ts';
import { runStateMachine } from '../state-machine-runner.ts';
import type { DemoStep } from './types.ts';

export const validationDemo: DemoStep = {
  title:
    'Validation: monthly restore rehearsal into the isolated account, checks, cleanup, hash-chained report',
  async run(ctx) {
    const { policy } = ctx.deps;
    if (!policy.isolatedAccount)
      return { ok: true, summary: 'no isolatedAccount in the policy: nothing to rehearse' };
    const expr = policy.schedules.validation;
    const scheduled = expr
      ? occurrences(expr, policy.timezone, ctx.from, ctx.to).map((t) => t.toISOString())
      : [];
    // The policy schedules it monthly; the demo rehearses at the end of the simulated period,
    // over the latest backups the other steps kept (older ones were pruned by then).
    const time = ctx.to;
    ctx.log(
      `scheduled by the policy (${expr ?? 'no schedule'}) in this period: ${scheduled.join(', ') || 'none'}`,
    );
    ctx.log(
      `running statemachines/validation.asl.yml locally for ${time.toISOString()} (the end of the period) …`,
    );
    // The deployed stack has the alert topic (AlertTopic); the emulator gets it here.
    await ctx.deps.clients
      .get(SNSClient)
      .send(new CreateTopicCommand({ Name: policy.notifications?.topicName ?? 'kura-alerts' }));
    const started = Date.now();
    // The rehearsal starts at its time; its Wait states and retries move the simulated clock
    // while the copies and restored databases become available, as they would on AWS.
    ctx.clock.set(time);
    const simStart = ctx.clock.now().getTime();
    const out = await runStateMachine(
      'validation',
      { time: time.toISOString() },
      {
        deps: ctx.deps,
        onEvent: (e) => {
          if (e.type === 'StateFailed' || e.type === 'TaskFailed')
            ctx.log(`  ✗ ${e.state ?? ''} ${e.error ?? ''} ${e.cause ?? ''}`.slice(0, 300));
        },
      },
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    ctx.log(
      `the rehearsal took ${((ctx.clock.now().getTime() - simStart) / 60_000).toFixed(0)} simulated minutes (copies and restores take AWS's time), ${seconds} s here`,
    );
    const runId = runIdFor(time);
    const body = await new VaultStore(ctx.deps.clients, policy).getText(reportKey(policy, runId));
    if (!body) return { ok: false, summary: `no report written (${out.status} ${out.cause ?? ''})` };
    const report = JSON.parse(body) as ValidationReport;
    ctx.table(
      report.items.map((i) => ({
        class: i.class,
        source: i.source,
        recoveryPoint: i.recoveryPoint?.id ?? '-',
        result: i.status,
        'restore s': i.restore?.durationSeconds ?? '',
        'RTO min': i.restore?.rtoMinutes ?? '',
        'RPO min': i.achievedRpoMinutes ?? '',
        cleanup: i.cleanup.status,
        reason: (i.reason ?? '').slice(0, 80),
      })),
    );
    for (const c of report.classes.filter((x) => x.note)) ctx.log(`${c.class}: ${c.note}`);
    // Looked at as the validation's plan looks (the isolated role trusts kura's restore and validation roles only).
    const target = await connectIsolated(await asFunction('validation-step', ctx.deps));
    const left = await listManagedInIsolated(target);
    ctx.log(
      `kura-managed resources left in the isolated account ${target.accountId}: ${left.length ? left.map((l) => l.id).join(', ') : 'none'}`,
    );
    const chain = verifyChain(await listReports(ctx.deps));
    ctx.log(
      `report: s3://${policy.vault.bucket}/${reportKey(policy, runId).replace(/json$/, 'html')} (chain of ${chain.reports.length}: ${chain.ok ? 'intact' : 'BROKEN'})`,
    );
    // The yearly rehearsal (schedules.rehearsal): what its schedule starts, the orchestrated
    // restore of every class at one time (here the end of the period), which then checks,
    // cleans up and chains its report beside the monthly ones. Its clock goes on from here.
    const request = rehearsalRequest(time.toISOString());
    ctx.log(
      `yearly rehearsal (${policy.schedules.rehearsal ?? 'not scheduled in the policy'}): statemachines/restore.asl.yml with ${JSON.stringify(request)} …`,
    );
    const rehearsed = await runRestoreLocally(request, {
      deps: ctx.deps,
      onEvent: (e) => {
        if (e.type === 'StateFailed' || e.type === 'TaskFailed')
          ctx.log(`  ✗ ${e.state ?? ''} ${e.error ?? ''} ${e.cause ?? ''}`.slice(0, 300));
      },
    });
    const rehearsalBody = await new VaultStore(ctx.deps.clients, policy).getText(
      reportKey(policy, rehearsalId(time)),
    );
    const rehearsal = rehearsalBody ? (JSON.parse(rehearsalBody) as ValidationReport) : undefined;
    ctx.log(
      rehearsal?.rehearsal
        ? `${rehearsal.runId}: ${rehearsal.verdict}. ${rehearsalLine(rehearsal.rehearsal)}`
        : `no rehearsal report (${rehearsed.status} ${rehearsed.cause ?? ''})`,
    );
    const rehearsalChain = verifyChain(await listRehearsalReports(ctx.deps));
    return {
      ok:
        report.verdict === 'PASS' &&
        left.length === 0 &&
        chain.ok &&
        rehearsal?.verdict === 'PASS' &&
        rehearsalChain.ok,
      summary: `${report.verdict}: ${report.items.filter((i) => i.status === 'pass').length} passed, ${report.items.filter((i) => i.status === 'fail').length} failed; state machine ${out.status} in ${seconds}s; nothing left behind: ${left.length === 0}; yearly rehearsal ${rehearsal?.verdict ?? 'missing'}`,
    };
  },
};
