// Use case (validation), the report state: every item's outcome, proof that
// nothing is left in the isolated account, the verdict, kura:validated tags
// on what passed, and the report sealed into the hash chain of the runs.
import { SealError } from '../../domain/seals.ts';
import type { Deps } from '../../aws/deps.ts';
import type { VaultObjects } from '../../aws/vault-objects.ts';
import { TAG } from '../../domain/tags.ts';
import {
  buildReport,
  type ItemOutcome,
  minutesBetween,
  renderHtml,
  rtoMinutesFor,
  serializeReport,
  sha256Hex,
  isRehearsalRun,
  REHEARSAL_REASON,
  type RehearsalOutcome,
  type ValidationReport,
} from '../../domain/validation-report.ts';
import { itemObjectives } from '../../domain/recovery-objectives.ts';
import type { Policy } from '../../policy/schema.ts';
import { connectIsolated } from '../../restore/isolated-network.ts';
import { errorInfo } from '../../runtime/result.ts';
import {
  causeMessage,
  configuredClasses,
  type ItemRecord,
  itemKey,
  planKey,
  reportHtmlKey,
  reportKey,
  type ValidationPlan,
  type ValidationReportPorts,
} from './records.ts';

function outcomeOf(rec: ItemRecord, plan: ValidationPlan, policy: Policy): ItemOutcome {
  const rto = policy.validation?.rto ?? { dataMinutes: 30, systemMinutes: 180, logsMinutes: 30 };
  const rp = rec.recoveryPoint;
  const out: ItemOutcome = {
    class: rec.class,
    source: rec.source,
    ...(rec.account ? { account: rec.account } : {}),
    ...(rec.sourceRegion ? { sourceRegion: rec.sourceRegion } : {}),
    recoveryPoint: { id: rp.id, time: rp.time, region: rp.region },
    status: 'pass',
    checks: rec.check?.checks ?? [],
    cleanup: rec.cleanup
      ? { status: rec.cleanup.status, detail: rec.cleanup.detail, resources: rec.cleanup.resources }
      : { status: 'failed', detail: 'cleanup never ran', resources: [] },
    // A point written after the plan was made (a bundle finished meanwhile) is 0 old, not negative.
    recoveryPointAgeMinutes: Math.max(0, minutesBetween(rp.time, plan.time)),
  };
  if (rec.restored && rec.startedAt) {
    const rtoMinutes = rtoMinutesFor(rec.class, rto);
    const seconds = Math.max(
      0,
      Math.round((new Date(rec.restored.finishedAt).getTime() - new Date(rec.startedAt).getTime()) / 1000),
    );
    out.restore = {
      startedAt: rec.startedAt,
      finishedAt: rec.restored.finishedAt,
      durationSeconds: seconds,
      rtoMinutes,
      withinRto: seconds <= rtoMinutes * 60,
      endpoint: rec.restored.endpoint,
    };
  }
  out.achievedRpoMinutes = rec.check?.achievedRpoMinutes ?? out.recoveryPointAgeMinutes;
  out.objectives = itemObjectives(policy, {
    class: rec.class,
    runTime: plan.time,
    recoveryPointAgeMinutes: out.recoveryPointAgeMinutes,
    latestRestorableTime: rec.latestRestorableTime,
    restore: out.restore,
  });
  if (rec.restoreError) {
    out.status = 'fail';
    out.reason = `restore failed: ${rec.restoreError.name}: ${rec.restoreError.message}`;
  } else if (rec.check?.error) {
    out.status = 'fail';
    out.reason = `check failed: ${rec.check.error.name}: ${rec.check.error.message}`;
  } else if (!rec.check && rec.restored) {
    out.status = 'fail';
    out.reason = 'the checks never ran';
  }
  return out;
}

/** The whole system's restore: from the first restore's start to the last one's end, against systemMinutes. */
export function rehearsalOutcome(reason: string, items: ItemOutcome[], policy: Policy): RehearsalOutcome {
  const restored = items.filter((i) => i.restore);
  if (!restored.length) return { reason };
  const startedAt = restored.map((i) => i.restore?.startedAt ?? '').sort()[0] ?? '';
  const finishedAt =
    restored
      .map((i) => i.restore?.finishedAt ?? '')
      .sort()
      .at(-1) ?? '';
  const minutes = minutesBetween(startedAt, finishedAt);
  const targetMinutes = policy.validation?.rto.systemMinutes ?? 180;
  return {
    reason,
    system: { startedAt, finishedAt, minutes, targetMinutes, withinTarget: minutes <= targetMinutes },
  };
}

export function alertTopicArn(policy: Policy, account: string): string {
  return (
    process.env.KURA_ALERT_TOPIC_ARN ||
    `arn:aws:sns:${policy.region}:${account}:${policy.notifications?.topicName ?? 'kura-alerts'}`
  );
}

export interface ReportResult {
  runId: string;
  verdict: 'PASS' | 'FAIL';
  subject: string;
  message: string;
  reportKey: string;
  htmlKey: string;
  alertTopicArn: string;
}

/** The newest report key before `key` under the same prefix (monthly or rehearsal; keys sort by run id), and its SHA-256. */
async function previousReport(
  vault: VaultObjects,
  key: string,
): Promise<{ key: string; sha256: string } | null> {
  const prefix = key.slice(0, key.lastIndexOf('/', key.lastIndexOf('/') - 1) + 1);
  const keys = (await vault.list(prefix)).filter((k) => k.endsWith('/report.json') && k < key);
  const prev = keys.at(-1);
  if (!prev) return null;
  const body = await vault.getText(prev);
  return body === undefined ? null : { key: prev, sha256: sha256Hex(body) };
}

export async function reportValidation(
  deps: Deps,
  ports: ValidationReportPorts,
  input: {
    runId: string;
    time: string;
    planError?: { Error?: string; Cause?: string };
    mapError?: { Error?: string; Cause?: string };
  },
): Promise<{ report: ValidationReport; result: ReportResult }> {
  const { policy } = deps;
  const problems: string[] = [];
  // Trusted only as sealed; a plan that fails its seal makes the run a FAIL that says so.
  let plan: ValidationPlan | undefined;
  let planUntrusted = false;
  try {
    const planText = await ports.sealed.getText(planKey(policy, input.runId));
    plan = planText ? (JSON.parse(planText) as ValidationPlan) : undefined;
  } catch (err) {
    if (!(err instanceof SealError)) throw err;
    planUntrusted = true;
    problems.push(`the run's plan is not trusted: ${err.message}`);
  }
  const planFailure = causeMessage(input.planError);
  if (planFailure)
    problems.push(`plan failed, nothing was restored: ${planFailure.name}: ${planFailure.message}`);
  const mapFailure = causeMessage(input.mapError);
  if (mapFailure)
    problems.push(`the restore/check/cleanup loop failed: ${mapFailure.name}: ${mapFailure.message}`);
  const now = new Date().toISOString();
  const items: ItemOutcome[] = [];
  /** The records behind the last items (after the "nothing" ones), in the same order. */
  const outcomeRecords: ItemRecord[] = [];
  let leftovers: string[] = [];
  if (plan) {
    for (const n of plan.nothing)
      items.push({
        class: n.class,
        source: '-',
        status: 'skip',
        reason: n.reason,
        checks: [],
        cleanup: { status: 'not-needed', resources: [] },
      });
    const records: ItemRecord[] = [];
    for (const it of plan.items) {
      const rec = await ports.vault.get<ItemRecord>(itemKey(policy, input.runId, it.index));
      if (rec) records.push(rec);
    }
    // Proof that nothing is left: what this run tagged, and every resource a restore recorded.
    try {
      const target = await connectIsolated(deps);
      const tagged = await ports.leftovers.listManaged(target, input.runId);
      leftovers = tagged.map(
        (l) => `${l.type} ${l.id}${l.state ? ` (${l.state})` : ''}${l.note ? `: ${l.note}` : ''}`,
      );
      for (const rec of records) {
        for (const r of rec.restored?.resources ?? rec.leftovers ?? []) {
          const name = `${r.type} ${r.id}`;
          if (leftovers.some((l) => l.startsWith(name))) continue;
          if (await ports.leftovers.stillExists(target, r)) leftovers.push(name);
        }
      }
    } catch (err) {
      const e = errorInfo(err);
      problems.push(`could not list what is left in the isolated account: ${e.name}: ${e.message}`);
    }
    for (const rec of records) items.push(outcomeOf(rec, plan, policy));
    outcomeRecords.push(...records);
  } else if (!planFailure && !planUntrusted) {
    problems.push(`no plan found for run ${input.runId}`);
  }
  const rehearsal = isRehearsalRun(input.runId)
    ? rehearsalOutcome(plan?.reason ?? REHEARSAL_REASON, items, policy)
    : undefined;
  if (rehearsal?.system && !rehearsal.system.withinTarget)
    problems.push(
      `the whole system took ${rehearsal.system.minutes} min to restore, over the system RTO of ${rehearsal.system.targetMinutes} min`,
    );
  if (rehearsal && !rehearsal.system)
    problems.push('the rehearsal restored nothing: no whole-system restore time to measure');
  const report = buildReport({
    runId: input.runId,
    time: input.time,
    generatedAt: now,
    region: plan?.region ?? policy.region,
    sourceAccount: plan?.sourceAccount,
    isolatedAccount: plan?.isolatedAccount ?? policy.isolatedAccount?.accountId,
    configured: plan?.configured ?? configuredClasses(policy),
    items,
    leftovers,
    problems,
    previous: null,
    ...(deps.clients.endpoint ? { emulatorEndpoint: deps.clients.endpoint } : {}),
  });
  if (rehearsal) report.rehearsal = rehearsal;
  // Passed recovery points are tagged before the report is sealed, so the report can say so.
  // Each outcome is its record's (same order): by name, two accounts' namesakes would mix.
  const first = report.items.length - outcomeRecords.length; // the plan's "nothing" entries come first
  for (const [n, rec] of outcomeRecords.entries()) {
    const it = report.items[first + n];
    if (it?.status !== 'pass') continue;
    try {
      it.markedValidated = await ports.markValidated(rec.recoveryPoint, input.time);
    } catch (err) {
      report.warnings.push(
        `could not tag ${rec.recoveryPoint.id} ${TAG.validated}: ${errorInfo(err).message}`,
      );
    }
  }
  const key = reportKey(policy, input.runId);
  report.previous = await previousReport(ports.vault, key);
  // Sealed (both): the hash chain links the reports, the seals lock each one's hash.
  await ports.sealed.put(key, serializeReport(report), { contentType: 'application/json' });
  const htmlKey = reportHtmlKey(policy, input.runId);
  await ports.sealed.put(htmlKey, renderHtml(report, policy.timezone), {
    contentType: 'text/html; charset=utf-8',
  });
  const account = plan?.sourceAccount ?? (await deps.clients.accountId());
  const where = ports.vault.location(htmlKey);
  return {
    report,
    result: {
      runId: input.runId,
      verdict: report.verdict,
      subject: `kura ${rehearsal ? 'rehearsal' : 'validation'} ${input.runId}: ${report.verdict}`.slice(
        0,
        99,
      ),
      message: `${report.summary}\n\nReport: ${where}\n`.slice(0, 200_000),
      reportKey: key,
      htmlKey,
      alertTopicArn: alertTopicArn(policy, account),
    },
  };
}
