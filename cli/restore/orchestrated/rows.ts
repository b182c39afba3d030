// `kura restore`: a plan and a report as table rows, times in both zones.
import { bothZones } from '../../../shared/policy/calendar.ts';
import { describeSelection, type RestoreReport } from '../../../shared/restore/plan.ts';
import type { RestoreState } from '../../../shared/usecases/restore.ts';

export function planRows(plan: RestoreState['plan'], tz: string) {
  return plan.items.map((i) => ({
    phase: i.phase,
    item: `${i.class} ${i.source}`,
    asked: describeSelection(i.selection, tz),
    'recovery point': i.pitr ? 'temporary instance restored to that time' : i.recoveryPoint.id,
    'taken at': bothZones(i.recoveryPoint.time, tz),
    RTO: `${i.rtoMinutes} min`,
  }));
}

export function reportRows(r: RestoreReport, tz: string) {
  return r.items.map((i) => ({
    item: `${i.class} ${i.source}`,
    status: i.status,
    'recovery point': i.recoveryPoint.id,
    'taken at': bothZones(i.recoveryPoint.time, tz),
    'endpoint / resources': i.endpoint ?? i.resources.map((x) => x.id).join(', '),
    took: i.durationSeconds === undefined ? '' : `${i.durationSeconds}s`,
    RTO: `${i.rtoMinutes} min${i.withinRto === false ? ' EXCEEDED' : ''}`,
  }));
}
