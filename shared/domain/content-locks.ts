// Domain (content): how long a content object's version stays locked while
// generations reference it. Pure. A copy is locked a term plus a stride
// (vault-retention.ts): the term is the generations kept plus a day for a late
// run; the stride is how far ahead a lock is set (content[].lockStrideDays,
// at least a term, by default exactly one). An object that does not change is
// not copied again: every new generation references the same version, so its
// lock must be lengthened while the newest generation that needs it is kept
// (until it is pruned, generations days later, plus a day for a late run). A
// version is lengthened only when its lock would end before that, and then to
// a term plus a stride from now, so an unchanged object costs one
// PutObjectRetention every stride days (stride + 1 when the day's run reaches
// it earlier in the day than the run that set its lock), not one a day. A longer stride
// means fewer requests and a replaced version held longer (its lock, and the
// noncurrent expiry that waits for it): docs/content.md weighs the two. The
// manifest records the date stated (ManifestEntry.lockedUntil), so deciding
// needs no request.
import type { ManifestEntry } from './content.ts';

const DAY = 86_400_000;

/** What a content source's locks depend on (a content[] entry of the policy). */
export interface LockTerms {
  generations: number;
  lockStrideDays?: number | undefined;
}

/** Days a generation needs a version it references: the generations kept, plus a day for a late run. */
export function contentLockDays(generations: number): number {
  return generations + 1;
}

/** How far beyond the term a lock is set: content[].lockStrideDays, by default one term. */
export function lockStrideDays(c: LockTerms): number {
  return c.lockStrideDays ?? contentLockDays(c.generations);
}

/** The longest a content version is ever locked from a moment: a term plus a stride (a copy, and each lengthening). */
export function extendedLockDays(c: LockTerms): number {
  return contentLockDays(c.generations) + lockStrideDays(c);
}

/**
 * The least a copy was locked under any stride the policy accepts (a stride is
 * at least a term): what a copy found in the vault, made by an attempt that
 * crashed perhaps under another stride, is recorded as locked for.
 */
export function leastCopyLockDays(generations: number): number {
  return 2 * contentLockDays(generations);
}

/**
 * The entries whose lock ends before the newest generation stops needing them,
 * and the date to lengthen them to. Never a shortening: every entry returned is
 * locked (as recorded) until before now + a term, and the date is a stride past
 * that; an entry with no recorded date was copied at the latest now, locked
 * two terms, and the stride is at least a term (the policy refuses less).
 */
export function locksToExtend(
  entries: readonly ManifestEntry[],
  now: Date,
  c: LockTerms,
): { entries: ManifestEntry[]; until: Date } {
  const needed = now.getTime() + contentLockDays(c.generations) * DAY;
  const short = entries.filter((e) => !e.lockedUntil || Date.parse(e.lockedUntil) < needed);
  return { entries: short, until: new Date(now.getTime() + extendedLockDays(c) * DAY) };
}

/**
 * Lengthenings a day at steady state, for `objects` of which a fraction
 * `churn` changes each day (independently): an object's lock is set at its
 * copy and lengthened every `stride` days while it stays unchanged (the
 * lengthening day's run reaching it later in the day than the run that set
 * the lock, as when a chunk's lengthenings follow its copies; a day later
 * otherwise, so this is the upper bound), a change restarting the cycle with a
 * new copy. Per object and day: churn · q / (1 − q), with q = (1 − churn)^stride
 * the chance of a whole cycle without a change. What the projection to large
 * sources and the lock bench (bench/content/locks.ts) compare with.
 */
export function lengtheningsPerDay(objects: number, churn: number, c: LockTerms): number {
  const cycle = lockStrideDays(c);
  const q = (1 - churn) ** cycle;
  return churn === 0 ? objects / cycle : (objects * churn * q) / (1 - q);
}
