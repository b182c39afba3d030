// Domain: recovery objectives measured from the real sources, per restored
// item, each with its target and pass or fail. Pure.
//   database  RPO from point-in-time recovery: the run's time minus the
//             source's LatestRestorableTime, against database.rpoMinutes;
//             the snapshot's age next to it (what a restore from the daily
//             snapshot alone would lose)
//   content   RPO: the age of the newest complete generation, against the
//   logs      interval of its schedule (content-backup, log-bundle): a missed
//             run shows as an age beyond one interval
//   every     RTO: the measured restore time against validation.rto
import type { Policy } from '../policy/schema.ts';
import { occurrences } from './schedule-occurrences.ts';
import { minutesBetween, type ValidatedClass } from './validation-report.ts';

export interface Objective {
  objective: 'RPO' | 'RTO';
  /** Where the figure comes from, in a few words. */
  basis: string;
  achievedMinutes?: number;
  targetMinutes?: number;
  status: 'pass' | 'fail' | 'unknown' | 'info';
  detail: string;
}

/** Minutes between two firings of a schedule around `at` (undefined without the schedule). */
export function scheduleIntervalMinutes(
  policy: Policy,
  target: 'content-backup' | 'log-bundle',
  at: Date,
): number | undefined {
  const expr = policy.schedules[target];
  if (!expr) return undefined;
  const [a, b] = occurrences(expr, policy.timezone, new Date(at.getTime() - 40 * 86_400_000), at).slice(-2);
  return a && b ? minutesBetween(a, b) : undefined;
}

const judged = (
  objective: Objective['objective'],
  basis: string,
  achieved: number | undefined,
  target: number | undefined,
): Objective => {
  if (achieved === undefined)
    return { objective, basis, targetMinutes: target, status: 'unknown', detail: `${basis}: not measured` };
  if (target === undefined)
    return {
      objective,
      basis,
      achievedMinutes: achieved,
      status: 'info',
      detail: `${basis}: ${achieved} min`,
    };
  const ok = achieved <= target;
  return {
    objective,
    basis,
    achievedMinutes: achieved,
    targetMinutes: target,
    status: ok ? 'pass' : 'fail',
    detail: `${basis}: ${achieved} min (target ${target} min)${ok ? '' : ': over the target'}`,
  };
};

export function itemObjectives(
  policy: Policy,
  item: {
    class: ValidatedClass;
    runTime: string;
    recoveryPointAgeMinutes?: number;
    /** The source database's LatestRestorableTime at the run (database only). */
    latestRestorableTime?: string;
    restore?: { durationSeconds: number; rtoMinutes: number };
  },
): Objective[] {
  const out: Objective[] = [];
  if (item.class === 'database') {
    const pitr = item.latestRestorableTime
      ? Math.max(0, minutesBetween(item.latestRestorableTime, item.runTime))
      : undefined;
    const o = judged(
      'RPO',
      'point-in-time recovery (run time minus LatestRestorableTime)',
      pitr,
      policy.database?.rpoMinutes,
    );
    if (pitr === undefined)
      o.detail =
        'point-in-time recovery: no LatestRestorableTime (automated backups off, or the source is gone)';
    out.push(o);
    out.push({
      ...judged('RPO', 'snapshot age', item.recoveryPointAgeMinutes, undefined),
      status: 'info',
    });
  } else if (item.class === 'content' || item.class === 'logs') {
    const schedule = item.class === 'content' ? 'content-backup' : 'log-bundle';
    const basis =
      item.class === 'content' ? 'age of the newest complete generation' : 'age of the newest bundle';
    out.push(
      judged(
        'RPO',
        basis,
        item.recoveryPointAgeMinutes,
        scheduleIntervalMinutes(policy, schedule, new Date(item.runTime)),
      ),
    );
  }
  if (item.restore)
    out.push(
      judged(
        'RTO',
        'restore time',
        Math.round((item.restore.durationSeconds / 60) * 10) / 10,
        item.restore.rtoMinutes,
      ),
    );
  return out;
}
