// Domain (reports, validation history): one row per report and one cell per
// month, from the reports read and the policy's validation schedule.
import type { Policy } from '../../../policy/schema.ts';
import { addDays, bothZones, localDate } from '../../../policy/calendar.ts';
import { occurrences } from '../../schedule-occurrences.ts';
import {
  type ChainEntry,
  dataCoverage,
  type ValidatedClass,
  type ValidationReport,
  verdictText,
  verifyChain,
} from '../../validation-report.ts';

export interface HistoryRow {
  runId: string;
  time: string;
  verdict: string;
  passed: number;
  failed: number;
  skipped: number;
  leftovers: number;
  sha256: string;
  linked: boolean;
  problem?: string;
  key: string;
  /** The verdict as it must be read: a PASS that checked no data says so. */
  verdictText: string;
  /** Restored items whose data was checked (SQL probes, SHA-256), of those that have data. */
  dataChecked: { items: number; of: number };
  /** The run talked to an emulator: its restore times are not AWS figures. */
  emulator: boolean;
  /**
   * Per class, the worst of the run: achieved RPO (database: from point-in-time
   * recovery when measured) and restore time, minutes.
   */
  perClass: Partial<Record<ValidatedClass, { rpoMinutes?: number; restoreMinutes?: number }>>;
  /** A yearly rehearsal: the whole system's restore time against the system RTO. */
  system?: { minutes: number; targetMinutes: number; withinTarget: boolean };
  /** Slowest restore of the run, minutes, against the RTO of that item. */
  slowestRestore?: { item: string; minutes: number; rtoMinutes: number };
}

/** One month of the period: did the monthly validation run, and how did it end? */
export interface MonthCell {
  month: string;
  state: 'passed' | 'passed-infra' | 'failed' | 'missed' | 'not-due' | 'before';
  runs: string[];
  title: string;
}

export interface ValidationHistory {
  kind: 'kura.validation-history';
  generatedAt: string;
  chainOk: boolean;
  problems: string[];
  runs: HistoryRow[];
  timezone?: string;
  /** Month by month over the period (when the policy's schedule is known). */
  months?: MonthCell[];
}

const monthOf = (d: Date, tz: string) => localDate(d, tz).slice(0, 7);

/**
 * Month by month: the months in which `schedules.validation` fired in the
 * period, each with the runs scheduled in it. A month without a run is missed;
 * months before `since` (kura's first recorded backup) are before it ran.
 */
export function validationMonths(
  runs: HistoryRow[],
  opts: { policy: Policy; from: Date; to: Date; since?: Date },
): MonthCell[] {
  const tz = opts.policy.timezone;
  const expr = opts.policy.schedules.validation;
  if (!expr) return [];
  const firings = occurrences(expr, tz, opts.from, opts.to);
  const months = new Map<string, Date>();
  for (const f of firings) if (!months.has(monthOf(f, tz))) months.set(monthOf(f, tz), f);
  return [...months.entries()].map(([month, firing]) => {
    const mine = runs.filter((r) => r.time && monthOf(new Date(r.time), tz) === month);
    const last = mine.at(-1);
    let state: MonthCell['state'];
    if (last)
      state =
        last.verdict !== 'PASS'
          ? 'failed'
          : last.dataChecked.items < last.dataChecked.of
            ? 'passed-infra'
            : 'passed';
    // The run of this month's firing may still be going.
    else if (opts.to.getTime() - firing.getTime() < 6 * 3600_000) state = 'not-due';
    else if (opts.since && firing < opts.since) state = 'before';
    else state = 'missed';
    const what =
      state === 'missed'
        ? `no validation run (scheduled ${bothZones(firing, tz)})`
        : state === 'before'
          ? 'before kura recorded its first backup'
          : state === 'not-due'
            ? `scheduled ${bothZones(firing, tz)}, may still be running`
            : mine.map((r) => `${r.runId} ${r.verdictText}`).join('; ');
    return { month, state, runs: mine.map((r) => r.runId), title: `${month}: ${what}` };
  });
}

export function validationHistory(
  entries: ChainEntry[],
  now: Date,
  period?: { policy: Policy; from?: Date; to?: Date; since?: Date },
): ValidationHistory {
  const chain = verifyChain(entries);
  const runs = entries.map((e, i): HistoryRow => {
    const c = chain.reports[i];
    let r: Partial<ValidationReport> = {};
    try {
      r = JSON.parse(e.body) as ValidationReport;
    } catch {
      // the chain check already names it
    }
    const items = r.items ?? [];
    const data = dataCoverage(items);
    const slowest = items
      .filter((x) => x.restore)
      .sort((a, b) => (b.restore?.durationSeconds ?? 0) - (a.restore?.durationSeconds ?? 0))[0];
    const perClass: HistoryRow['perClass'] = {};
    for (const x of items) {
      if (x.status === 'skip') continue;
      const pitr = x.objectives?.find((o) => o.objective === 'RPO' && o.achievedMinutes !== undefined);
      const rpo = pitr?.achievedMinutes ?? x.achievedRpoMinutes;
      const restore = x.restore ? Math.round((x.restore.durationSeconds / 60) * 10) / 10 : undefined;
      const seen = perClass[x.class] ?? {};
      perClass[x.class] = {
        rpoMinutes: rpo === undefined ? seen.rpoMinutes : Math.max(seen.rpoMinutes ?? rpo, rpo),
        restoreMinutes:
          restore === undefined ? seen.restoreMinutes : Math.max(seen.restoreMinutes ?? restore, restore),
      };
    }
    return {
      runId: r.runId ?? '?',
      perClass,
      ...(r.rehearsal?.system
        ? {
            system: {
              minutes: r.rehearsal.system.minutes,
              targetMinutes: r.rehearsal.system.targetMinutes,
              withinTarget: r.rehearsal.system.withinTarget,
            },
          }
        : {}),
      time: r.time ?? '',
      verdict: r.verdict ?? 'unreadable',
      passed: items.filter((x) => x.status === 'pass').length,
      failed: items.filter((x) => x.status === 'fail').length,
      skipped: items.filter((x) => x.status === 'skip').length,
      leftovers: r.leftovers?.length ?? 0,
      sha256: c?.sha256 ?? '',
      linked: c?.linked ?? false,
      problem: c?.problem,
      key: e.key,
      verdictText: r.verdict ? verdictText({ verdict: r.verdict, items }) : 'unreadable',
      dataChecked: { items: data.checked.length, of: data.checked.length + data.unchecked.length },
      emulator: Boolean(r.measuredOn),
      ...(slowest?.restore
        ? {
            slowestRestore: {
              item: `${slowest.class} ${slowest.source}`,
              minutes: Math.round(slowest.restore.durationSeconds / 0.6) / 100,
              rtoMinutes: slowest.restore.rtoMinutes,
            },
          }
        : {}),
    };
  });
  const to = period?.to ?? now;
  return {
    kind: 'kura.validation-history',
    generatedAt: now.toISOString(),
    chainOk: chain.ok,
    problems: chain.problems,
    runs,
    ...(period
      ? {
          timezone: period.policy.timezone,
          months: validationMonths(runs, {
            policy: period.policy,
            from: period.from ?? addDays(to, -365),
            to,
            since: period.since,
          }),
        }
      : {}),
  };
}
