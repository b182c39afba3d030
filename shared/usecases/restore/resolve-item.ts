// Use case (orchestrated restore): one requested item resolved to the
// recovery point it names, or to a problem that says what exists instead.
import type { Deps } from '../../aws/deps.ts';
import { bothZones } from '../../policy/calendar.ts';
import type { RequestedItem } from '../../restore/request.ts';
import { farFromPointWarning, nearestPoints } from '../../restore/requested-times.ts';
import type { RecoveryPointRef, RestoreListing } from '../../restore/types.ts';
import type { RestorePlanPorts } from './ports.ts';

/**
 * Sources of a class that have recovery points (to name when a requested one
 * has none): for databases also those that are gone but whose snapshots
 * remain, known from the vault's first-point records.
 */
async function sourcesWithPoints(step: RestoreListing, deps: Deps, ports: RestorePlanPorts): Promise<string> {
  const all = await step.list(deps);
  const names = new Set(all.map((p) => p.source));
  if (step.class === 'database') {
    const recorded = (await ports.firstPoints()).filter((f) => f.class === 'database').map((f) => f.source);
    for (const d of await ports.backedUpDatabases(recorded)) if (!d.exists) names.add(d.id);
  }
  return names.size ? [...names].sort().join(', ') : '(none)';
}

export async function resolveItem(
  item: RequestedItem,
  deps: Deps,
  ports: RestorePlanPorts,
): Promise<{ recoveryPoint?: RecoveryPointRef; problem?: string; warning?: string }> {
  const { account: from0, sourceRegion: in0 } = item.options;
  const label = `${item.class} ${item.source}${typeof from0 === 'string' ? ` (account ${from0}${typeof in0 === 'string' ? ` ${in0}` : ''})` : ''}`;
  const tz = deps.policy.timezone;
  const step = await ports.listing(item.class);
  if (item.selection.kind === 'pointInTime') {
    const time = item.selection.time;
    const w = await ports.preflight.pitrWindow(item.source);
    const snapshots = await step.list(deps, { source: item.source });
    const nearest = nearestPoints(snapshots, time);
    if (!w) {
      // The database is gone (or the name is wrong): its snapshots, or the databases that have backups.
      const latest = snapshots[0];
      return {
        problem: latest
          ? `${label}: the database no longer exists, so no point in time can be restored; its newest snapshot is ${latest.id}, taken ${bothZones(latest.time, tz)}: use "snapshot": "${latest.id}" or "latest"`
          : `${label}: no such database in the source account and no kura-managed snapshot of it; databases with backups: ${await sourcesWithPoints(step, deps, ports)}`,
      };
    }
    const brief = (p?: RecoveryPointRef) => (p ? { id: p.id, time: p.time } : undefined);
    return {
      recoveryPoint: {
        class: 'database',
        source: item.source,
        id: `point-in-time ${time}`,
        time,
        region: deps.clients.region,
        details: {
          pointInTime: true,
          ...(w.encrypted && w.kmsKeyId ? { encrypted: true, kmsKeyId: w.kmsKeyId } : {}),
          nearest: { before: brief(nearest.before), after: brief(nearest.after) },
        },
      },
    };
  }
  const s = item.selection;
  const before = s.kind === 'before' ? new Date(s.time) : undefined;
  let points: RecoveryPointRef[];
  const { from, to, account, sourceRegion } = item.options;
  // Where the item's database or server lives, when the request (or a rehearsal's plan) says:
  // one account's copies, and for a rehearsal item also one region's.
  const origin = {
    ...(typeof account === 'string' ? { account } : {}),
    ...(typeof sourceRegion === 'string' ? { sourceRegion } : {}),
  };
  try {
    points = await step.list(deps, {
      source: item.source,
      ...(before ? { before } : {}),
      ...origin,
      // Logs: the points holding part of the requested days (loose days as well as bundles).
      ...(typeof from === 'string' && typeof to === 'string' ? { range: { from, to } } : {}),
    });
  } catch (err) {
    // A step that cannot list is one more blocker, reported with the others.
    return {
      problem: `${label}: cannot list recovery points: ${(err as Error).message.replace(/\s+/g, ' ')}`,
    };
  }
  let rp: RecoveryPointRef | undefined;
  if (s.kind === 'latest' || s.kind === 'before') rp = points[0];
  else if (s.kind === 'id') rp = points.find((p) => p.id === s.id);
  else if (s.kind === 'generationDate')
    rp = points.find((p) => p.id === s.date || p.id.includes(s.date) || p.time.startsWith(s.date));
  if (rp) {
    if (s.kind !== 'before' || item.class === 'logs') return { recoveryPoint: rp };
    const all = await step.list(deps, { source: item.source, ...origin });
    const after = nearestPoints(all, s.time).after;
    return { recoveryPoint: rp, warning: farFromPointWarning(label, s.time, rp, after, tz) };
  }
  const what =
    s.kind === 'latest'
      ? 'no kura-managed recovery point'
      : s.kind === 'before'
        ? `no kura-managed recovery point at or before ${bothZones(s.time, tz)}`
        : s.kind === 'id'
          ? `recovery point ${s.id} not found among kura-managed ones`
          : `no generation of ${s.date}`;
  const known = points
    .slice(0, 3)
    .map((p) => `${p.id} (${bothZones(p.time, tz)})`)
    .join(', ');
  // Nothing at all for this source: most likely a typo; name the sources that have backups.
  const any = known ? [] : await step.list(deps, { source: item.source });
  const others =
    !known && any.length === 0
      ? `; ${item.class} sources with backups: ${await sourcesWithPoints(step, deps, ports)}`
      : '';
  return { problem: `${label}: ${what}${known ? `; newest available: ${known}` : ''}${others}` };
}
