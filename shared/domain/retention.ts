// Domain: which recovery points to keep and which to prune. Pure. The rules
// that protect data come first: only kura-managed points are candidates, the
// newest `minGenerations` always stay, the newest validated point stays,
// anything a caller marks as protected (in use) stays, and nothing newer than
// the run's own time is ever pruned.

export interface RecoveryPoint {
  id: string;
  /** The scheduled time recorded in the point's tags (age is measured from it). */
  time: Date;
  managed: boolean;
  /** Only complete points count as generations (an image still pending is not one). */
  complete: boolean;
  validated?: boolean;
  /** Why a point must stay regardless of age (e.g. "used by launch template lt-1"). */
  protectedBy?: string;
}

export interface RetentionRule {
  /** Points older than this many days may go (undefined: age does not matter). */
  retainDays?: number;
  /** Never keep fewer complete points than this. */
  minGenerations: number;
  /** Keep at most this many complete points (undefined: no cap by count). */
  maxGenerations?: number;
}

export interface Decision {
  id: string;
  reason: string;
}

export interface PrunePlan {
  keep: Decision[];
  prune: Decision[];
}

export function planPruning(points: RecoveryPoint[], rule: RetentionRule, now: Date): PrunePlan {
  const keep: Decision[] = [];
  const prune: Decision[] = [];
  const managed = points.filter((p) => p.managed);
  for (const p of points) if (!p.managed) keep.push({ id: p.id, reason: 'not kura-managed' });

  const complete = managed.filter((p) => p.complete).sort((a, b) => b.time.getTime() - a.time.getTime());
  for (const p of managed) if (!p.complete) keep.push({ id: p.id, reason: 'not complete yet' });

  const newestValidated = complete.find((p) => p.validated);
  const cutoff = rule.retainDays === undefined ? undefined : now.getTime() - rule.retainDays * 86_400_000;

  for (const [index, p] of complete.entries()) {
    const generation = index + 1;
    const tooOld = cutoff !== undefined && p.time.getTime() <= cutoff;
    const tooMany = rule.maxGenerations !== undefined && generation > rule.maxGenerations;
    if (generation <= rule.minGenerations)
      keep.push({ id: p.id, reason: `within the newest ${rule.minGenerations} generations` });
    else if (p === newestValidated) keep.push({ id: p.id, reason: 'newest validated recovery point' });
    else if (p.protectedBy) keep.push({ id: p.id, reason: p.protectedBy });
    // A point tagged after this run's time means the run is a replayed or late
    // event, or a clock was skewed: its age is unknown, so it is never pruned
    // (the count cap alone would otherwise prune it as "beyond N generations").
    else if (p.time.getTime() > now.getTime())
      keep.push({ id: p.id, reason: `newer than this run's time ${now.toISOString()}` });
    else if (tooOld) prune.push({ id: p.id, reason: `older than ${rule.retainDays} days` });
    else if (tooMany) prune.push({ id: p.id, reason: `beyond ${rule.maxGenerations} generations` });
    else
      keep.push({
        id: p.id,
        reason: cutoff !== undefined ? `within ${rule.retainDays} days` : 'within the generations kept',
      });
  }
  return { keep, prune };
}
