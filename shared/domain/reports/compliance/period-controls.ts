// Domain (reports, compliance): the controls across the period: the monthly
// validation, its data checks, the measured restore time and the yearly rehearsal.
import type { Policy } from '../../../policy/schema.ts';
import { addDays, bothZones } from '../../../policy/calendar.ts';
import { dataCoverage, type ValidationReport } from '../../validation-report.ts';
import { fmtNumber } from '../html.ts';
import { missedMonths, monthWord } from '../validation-history.ts';
import { type ComplianceInput, type Control, pick, REHEARSAL, type RehearsalEvidence } from './model.ts';

export function monthlyControl(i: ComplianceInput): Control {
  const base = {
    area: 'validation',
    kind: 'validation-monthly' as const,
    policyKey: 'schedules.validation',
    requirement: `a validation every month (${i.policy.schedules.validation ?? 'not scheduled'}), each passing`,
  };
  const months = i.history.months ?? [];
  if (!i.policy.schedules.validation || months.length === 0)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no validation was due in the period',
      why: i.policy.schedules.validation
        ? 'the period holds no firing of the schedule'
        : 'schedules.validation is not set',
      evidence: [],
    });
  const bad = missedMonths(i.history);
  const evidence = months.map(
    (m) => `${m.month}: ${monthWord(m)}${m.runs.length ? ` (${m.runs.join(', ')})` : ''}`,
  );
  const counted = months.filter((m) => m.state !== 'before' && m.state !== 'not-due');
  if (bad.length)
    return pick('FAIL', {
      ...base,
      finding: `${bad.length} month(s) missed or failed: ${bad.map((m) => `${m.month} ${monthWord(m)}`).join(', ')}`,
      evidence,
    });
  if (!counted.length)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no month of the period is after kura began',
      why: 'kura recorded its first backup after the last validation of the period was due',
      evidence,
    });
  return pick('PASS', {
    ...base,
    finding: `every one of ${counted.length} month(s) has a passing validation`,
    evidence,
  });
}

function runsInPeriod(i: ComplianceInput): ValidationReport[] {
  return i.validations.filter((v) => {
    const t = Date.parse(v.time);
    return t >= i.from.getTime() && t <= i.to.getTime();
  });
}

export function dataControl(i: ComplianceInput): Control {
  const base = {
    area: 'validation',
    kind: 'validation-data' as const,
    policyKey: 'validation.sqlProbes, validation.contentSample',
    requirement:
      'each validation checks the restored data (SQL probes, SHA-256 of objects), not only that the restore worked',
  };
  const runs = runsInPeriod(i);
  if (!runs.length)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no validation run in the period',
      why: 'nothing to look at',
      evidence: [],
    });
  const lacking = runs.map((r) => ({ r, d: dataCoverage(r.items) })).filter((x) => x.d.unchecked.length > 0);
  const evidence = runs.map((r) => {
    const d = dataCoverage(r.items);
    return `${r.runId}: data checked for ${d.checked.length} of ${d.checked.length + d.unchecked.length} item(s)`;
  });
  if (lacking.length)
    return pick('FAIL', {
      ...base,
      finding: `${lacking.length} run(s) checked only infrastructure for: ${lacking.map((x) => `${x.r.runId} (${x.d.unchecked.join(', ')})`).join('; ')}`,
      evidence,
    });
  return pick('PASS', { ...base, finding: `every one of ${runs.length} run(s) checked the data`, evidence });
}

export function restoreTimeControl(i: ComplianceInput): Control {
  const rto = i.policy.validation?.rto ?? { dataMinutes: 30, systemMinutes: 180, logsMinutes: 30 };
  const base = {
    area: 'validation',
    kind: 'restore-time' as const,
    policyKey: 'validation.rto.dataMinutes, validation.rto.systemMinutes, validation.rto.logsMinutes',
    requirement: `data back within ${rto.dataMinutes} min, a server within ${rto.systemMinutes} min, logs within ${rto.logsMinutes} min`,
  };
  const measured = [
    ...runsInPeriod(i).flatMap((r) =>
      r.items
        .filter((x) => x.restore)
        .map((x) => ({
          what: `validation ${r.runId} ${x.class} ${x.source}`,
          minutes: (x.restore?.durationSeconds ?? 0) / 60,
          target: x.restore?.rtoMinutes ?? 0,
          emulator: Boolean(r.measuredOn),
        })),
    ),
    ...i.rehearsals.flatMap((r) =>
      r.items
        .filter((x) => x.durationSeconds !== undefined)
        .map((x) => ({
          what: `restore ${r.requestId} ${x.class} ${x.source}`,
          minutes: (x.durationSeconds ?? 0) / 60,
          target: x.rtoMinutes,
          emulator: Boolean(i.emulatorEndpoint),
        })),
    ),
  ];
  const emulator = measured.some((m) => m.emulator) || Boolean(i.emulatorEndpoint);
  const label = emulator ? ' (measured on an emulator: not AWS figures)' : '';
  if (!measured.length)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no restore was measured in the period',
      why: 'no validation or rehearsal restored anything',
      evidence: [],
      emulator,
    });
  const over = measured.filter((m) => m.minutes > m.target);
  const slowest = [...measured].sort((a, b) => b.minutes / b.target - a.minutes / a.target).slice(0, 5);
  const evidence = slowest.map(
    (m) =>
      `${m.what}: ${fmtNumber(Math.round(m.minutes * 10) / 10)} min of ${m.target}${m.emulator ? ' (emulator)' : ''}`,
  );
  if (over.length)
    return pick('FAIL', {
      ...base,
      finding: `${over.length} restore(s) over the RTO${label}: ${over.map((m) => `${m.what} ${fmtNumber(Math.round(m.minutes * 10) / 10)} min of ${m.target}`).join('; ')}`,
      evidence,
      emulator,
    });
  return pick('PASS', {
    ...base,
    finding: `every one of ${measured.length} measured restore(s) within its RTO${label}`,
    evidence,
    emulator,
  });
}

/** A rehearsal: an orchestrated restore that succeeded and says it is one, or that restored every class the policy backs up. */
export function isRehearsal(r: RehearsalEvidence, policy: Policy): boolean {
  if (r.status !== 'SUCCEEDED') return false;
  if (REHEARSAL.test(r.reason)) return true;
  const wanted = [
    ...(policy.database ? ['database'] : []),
    ...(policy.images ? ['image'] : []),
    ...(policy.content.length ? ['content'] : []),
    ...(policy.logs ? ['logs'] : []),
  ];
  return wanted.every((c) => r.classes.includes(c));
}

export function rehearsalControl(i: ComplianceInput): Control {
  const base = {
    area: 'validation',
    kind: 'rehearsal' as const,
    policyKey: 'schedules.rehearsal (the reference policy: at least once a year)',
    requirement:
      'the restore procedure rehearsed end to end at least once in the 12 months before the end of the period',
  };
  const yearAgo = addDays(i.to, -366);
  const done = i.rehearsals
    .filter((r) => isRehearsal(r, i.policy))
    .filter((r) => Date.parse(r.startedAt) >= yearAgo.getTime() && Date.parse(r.startedAt) <= i.to.getTime());
  const evidence = done.map(
    (r) =>
      `${r.requestId} ${bothZones(r.startedAt, i.policy.timezone)}: ${r.classes.join(', ')} (${r.reason})`,
  );
  if (done.length) return pick('PASS', { ...base, finding: `rehearsed ${done.length} time(s)`, evidence });
  if (i.since && i.since > yearAgo)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no rehearsal yet',
      why: `kura has run since ${bothZones(i.since, i.policy.timezone)}, less than a year: the first rehearsal is due by ${bothZones(addDays(i.since, 366), i.policy.timezone)}`,
      evidence,
    });
  return pick('FAIL', {
    ...base,
    finding: `no rehearsal since ${bothZones(yearAgo, i.policy.timezone)}`,
    evidence: [
      'a rehearsal is an orchestrated restore that SUCCEEDED with "rehearsal" in its reason or every class of the policy restored',
    ],
  });
}
