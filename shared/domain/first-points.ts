// Domain: the first recovery point kura ever recorded for each source. It is
// kept in the vault (versioned, Object-Locked) so that reports count the
// expected points from it, never from the oldest point that survives: deleting
// the oldest backups must make gaps appear, not shrink what is expected. Pure.
import type { Policy } from '../policy/schema.ts';

export const FIRST_POINTS_PREFIX = 'ledger/first-points/';

export type LedgerClass = 'database' | 'content' | 'logs' | 'image';
const CLASSES: LedgerClass[] = ['database', 'content', 'logs', 'image'];

export interface FirstPointRecord {
  kind: 'kura.first-point';
  class: LedgerClass;
  source: string;
  /** The recovery point (snapshot id, generation, image id, run of the log archive). */
  id: string;
  /** The scheduled time it answers (kura:time), ISO-8601. */
  time: string;
  recordedAt: string;
  recordedBy: string;
}

/** What the vault holds for one source: the earliest record over every version of its key. */
export interface FirstPoint extends FirstPointRecord {
  key: string;
  /** Object versions found under the key (each run that found none current wrote one). */
  versions: number;
  /** The current version is a delete marker: someone deleted the record; the locked versions still answer. */
  deleted: boolean;
}

/** Logs sources are "<class>/<host>": kept as a path, so a key reads as what it is. */
export function firstPointKey(cls: LedgerClass, source: string): string {
  return `${FIRST_POINTS_PREFIX}${cls}/${source}.json`;
}

export function parseFirstPointKey(key: string): { class: LedgerClass; source: string } | undefined {
  if (!key.startsWith(FIRST_POINTS_PREFIX) || !key.endsWith('.json')) return undefined;
  const rest = key.slice(FIRST_POINTS_PREFIX.length, -'.json'.length);
  const slash = rest.indexOf('/');
  const cls = rest.slice(0, slash) as LedgerClass;
  if (slash < 1 || !CLASSES.includes(cls) || slash === rest.length - 1) return undefined;
  return { class: cls, source: rest.slice(slash + 1) };
}

export function parseFirstPointRecord(body: string): FirstPointRecord | undefined {
  try {
    const r = JSON.parse(body) as Partial<FirstPointRecord>;
    if (r.kind !== 'kura.first-point' || !r.class || !r.source || !r.id || !r.time) return undefined;
    if (Number.isNaN(Date.parse(r.time))) return undefined;
    return r as FirstPointRecord;
  } catch {
    return undefined;
  }
}

/** The earliest of several records of one source (a later run after a deletion wrote a later one). */
export function earliestRecord<R extends { time: string }>(records: R[]): R | undefined {
  return [...records].sort((a, b) => Date.parse(a.time) - Date.parse(b.time))[0];
}

/**
 * How long each version is locked: at least as long as the longest retention
 * the policy asks for (reports look back that far), and never under the
 * vault's own default retention or about thirteen months (the compliance
 * report's default period).
 */
export function firstPointRetentionDays(policy: Policy): number {
  const logs = Object.values(policy.logs?.classes ?? {}).map((c) => c.retainDays);
  return Math.max(policy.vault.objectLock.days, policy.database?.retainDays ?? 0, 400, ...logs);
}

/**
 * The time expected points are counted from: the recorded first point, or the
 * oldest point present when that is older (sources backed up before the record
 * existed). Deleting points can only make the oldest present later, never
 * earlier than the record.
 */
export function countFrom(
  recorded: string | undefined,
  oldestPresent: string | undefined,
): string | undefined {
  const times = [recorded, oldestPresent].filter(
    (t): t is string => Boolean(t) && !Number.isNaN(Date.parse(t ?? '')),
  );
  return earliestRecord(times.map((time) => ({ time })))?.time;
}
