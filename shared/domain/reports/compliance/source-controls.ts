// Domain (reports, compliance): the controls per source that the schedule,
// the retention rules and the point-in-time window decide.
import type { Policy } from '../../../policy/schema.ts';
import { addDays, bothZones } from '../../../policy/calendar.ts';
import { occurrences } from '../../schedule-occurrences.ts';
import { CADENCE, type CoverageClass, keptSince, type Point } from '../coverage.ts';
import { fmtNumber } from '../html.ts';
import { gapText, type InventoryReport, pitrText } from '../inventory.ts';
import { type ComplianceInput, type Control, days, PENDING_MS, pick } from './model.ts';

export function scheduleControl(i: ComplianceInput, s: InventoryReport['series'][number]): Control {
  const tz = i.policy.timezone;
  const base = {
    area: s.class,
    source: s.source,
    kind: 'schedule' as const,
    policyKey: `schedules.${CADENCE[s.class]}`,
    requirement: `a recovery point for every run of ${s.schedule} (${tz}) the policy keeps, from the first point kura recorded`,
  };
  const from = s.countedFrom
    ? `counted from ${bothZones(s.countedFrom.time, tz)} (${s.countedFrom.basis})`
    : 'no recovery point and no first-point record';
  const evidence = [
    `${s.present} of ${s.expected} expected run(s) in the period have a point; ${from}`,
    ...(s.newest ? [`newest point ${s.newest.id} taken ${bothZones(s.newest.time, tz)}`] : []),
  ];
  if (s.gaps.length)
    return pick('FAIL', {
      ...base,
      finding: `${s.gaps.reduce((n, g) => n + g.missed, 0)} run(s) without a recovery point: ${s.gaps.map(gapText).join('; ')}`,
      evidence: [...evidence, ...s.gaps.map((g) => `gap: ${gapText(g)}`)],
    });
  if (s.expected === 0)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no run was expected in the period',
      why: 'every run of the period is older than the policy keeps, still running, or before the first point',
      evidence,
    });
  if (s.countedFrom?.basis !== 'vault record')
    return pick('NOT EVALUATED', {
      ...base,
      finding: `no gap among the ${s.present} point(s) present, but expected points could only be counted from the oldest point present`,
      why: 'no first-point record in the vault (ledger/first-points/): deleted oldest points could not be told from a source backed up later; the next backup run writes one',
      evidence,
    });
  return pick('PASS', {
    ...base,
    finding: `every one of the ${s.expected} expected run(s) left a point`,
    evidence,
  });
}

export function retentionControl(i: ComplianceInput, s: InventoryReport['series'][number]): Control {
  const { policy, to } = i;
  const tz = policy.timezone;
  const cls = s.class;
  const [policyKey, requirement, generations] = retentionRule(policy, cls, s.source);
  const base = { area: cls, source: s.source, kind: 'retention' as const, policyKey, requirement };
  const expr = policy.schedules[CADENCE[cls]];
  const primary = (p: Point) => cls === 'content' || cls === 'logs' || p.region === policy.region;
  // Logs count per day (a loose file or a committed bundle of that day), like the inventory's series.
  const mine = (cls === 'logs' ? (i.logDays ?? []) : i.inventory.points)
    .filter(
      (p) => p.class === cls && p.source === s.source && primary(p) && !Number.isNaN(Date.parse(p.time)),
    )
    .sort((a, b) => a.time.localeCompare(b.time));
  if (!expr)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no schedule',
      why: `${base.policyKey}: not set`,
      evidence: [],
    });
  // Far enough back for what this class keeps (a schedule is stepped through slowly, firing by firing).
  const firings = occurrences(expr, tz, addDays(to, -(keptDays(policy, cls, s.source) + 40)), to);
  const kept = keptSince(policy, cls, s.source, firings, to, mine);
  const start = s.countedFrom ? new Date(s.countedFrom.time) : undefined;
  const keptFirings = firings.filter(
    (f) => f >= kept && (!start || f >= start) && to.getTime() - f.getTime() >= PENDING_MS,
  );
  const oldestTime = mine[0]?.time;
  const oldestId = mine[0]?.id;
  const evidence = [
    oldestTime
      ? `oldest point ${oldestId} taken ${bothZones(oldestTime, tz)} (${days(to.getTime() - Date.parse(oldestTime))} old)`
      : 'no point present',
  ];
  const first = keptFirings[0];
  if (!first)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'no run is old enough yet to hold a point the policy keeps',
      why: 'the source was first backed up after the start of its retention window',
      evidence,
    });
  const next = firings[firings.indexOf(first) + 1] ?? to;
  const problems: string[] = [];
  evidence.push(
    `the policy keeps the run of ${bothZones(first, tz)} and every later one (${keptFirings.length} run(s))`,
  );
  if (!oldestTime || Date.parse(oldestTime) >= next.getTime())
    problems.push(
      `the oldest point is ${oldestTime ? `from ${bothZones(oldestTime, tz)}` : 'missing'}; the policy keeps a point from ${bothZones(first, tz)}`,
    );
  if (generations !== undefined) {
    const times = [...new Set(mine.map((p) => p.time))];
    const need = Math.min(generations, keptFirings.length);
    evidence.push(`${times.length} generation(s) present; the policy keeps ${generations}`);
    if (times.length < need) problems.push(`${times.length} generation(s) present; expected ${need}`);
    // One more than the policy is tolerated: the newest is made before the oldest is pruned.
    if (cls !== 'database' && times.length > generations + 1)
      problems.push(`${times.length} generations kept; the policy keeps ${generations} (pruning is behind)`);
  }
  if (cls === 'database') {
    const overdue = mine.filter((p) => Date.parse(p.time) < addDays(kept, -1).getTime());
    const beyond = mine.length - overdue.length >= (policy.database?.minGenerations ?? 0) ? overdue : [];
    if (beyond.length)
      problems.push(
        `${beyond.length} snapshot(s) kept longer than the policy (pruning is behind): ${beyond.map((p) => p.id).join(', ')}`,
      );
  }
  if (problems.length) return pick('FAIL', { ...base, finding: problems.join('; '), evidence });
  return pick('PASS', {
    ...base,
    finding: `the oldest point is as old as the policy requires${generations !== undefined ? ' and the count matches' : ''}`,
    evidence,
  });
}

/** How many days back a class's retention can reach (generations counted as monthly at worst). */
function keptDays(policy: Policy, cls: CoverageClass, source: string): number {
  if (cls === 'database')
    return Math.max(policy.database?.retainDays ?? 0, (policy.database?.minGenerations ?? 0) * 31);
  if (cls === 'content') return (policy.content.find((c) => c.name === source)?.generations ?? 0) * 31;
  if (cls === 'image') return (policy.images?.generations ?? 0) * 31;
  return policy.logs?.classes[source.split('/')[0] ?? '']?.retainDays ?? 0;
}

function retentionRule(
  policy: Policy,
  cls: CoverageClass,
  source: string,
): [string, string, number | undefined] {
  if (cls === 'database')
    return [
      'database.retainDays, database.minGenerations',
      `snapshots kept ${policy.database?.retainDays} days, never fewer than ${policy.database?.minGenerations}`,
      policy.database?.minGenerations,
    ];
  if (cls === 'content') {
    const n = policy.content.findIndex((c) => c.name === source);
    const g = policy.content[n]?.generations;
    return [`content[${n}].generations`, `${g} daily generations of ${source}`, g];
  }
  if (cls === 'image')
    return [
      'images.generations',
      `${policy.images?.generations} image generations`,
      policy.images?.generations,
    ];
  const c = source.split('/')[0] ?? '';
  return [
    `logs.classes.${c}.retainDays`,
    `${c} logs kept ${policy.logs?.classes[c]?.retainDays} days`,
    undefined,
  ];
}

export function pitrControl(i: ComplianceInput, s: InventoryReport['series'][number]): Control {
  const base = {
    area: 'database',
    source: s.source,
    kind: 'point-in-time' as const,
    policyKey: 'database.retainDays, database.rpoMinutes',
    requirement: `automated backups cover ${i.policy.database?.retainDays} days; latest restorable time at most ${i.policy.database?.rpoMinutes} min behind`,
  };
  const p = s.pitr;
  if (!p)
    return pick('NOT EVALUATED', {
      ...base,
      finding: 'the database is not in the estate',
      why: 'no selected RDS database of that id exists now: its point-in-time window cannot be read (only its snapshots remain)',
      evidence: [],
    });
  const evidence = [
    `${pitrText(p)} (read ${bothZones(i.generatedAt, i.policy.timezone)})`,
    ...(p.earliest && p.latest
      ? [
          `restorable from ${bothZones(p.earliest, i.policy.timezone)} to ${bothZones(p.latest, i.policy.timezone)}`,
        ]
      : []),
  ];
  if (p.drift.length) return pick('FAIL', { ...base, finding: p.drift.join('; '), evidence });
  return pick('PASS', {
    ...base,
    finding: `window of ${p.retentionDays} days, ${fmtNumber(p.lagMinutes ?? 0)} min behind`,
    evidence,
  });
}

/** Points old enough to have their copy and share: everything but the newest run's (done by the next run). */
