// Domain (content): how long a content object's version stays locked while
// generations reference it. Pure. A copy is locked generations + 1 days
// (vault-retention.ts). An object that does not change is not copied again:
// every new generation references the same version, so its lock must be
// lengthened while the newest generation that needs it is kept (until it is
// pruned, generations days later, plus a day for a late run). To keep the
// daily requests near the floor, a version is lengthened only when its lock
// would end before that, and then by a full extra term (to twice the copy's
// term from now), so an unchanged object costs one PutObjectRetention every
// generations + 1 days, not one a day. The manifest records the date stated
// (ManifestEntry.lockedUntil), so deciding needs no request.
import type { ManifestEntry } from './content.ts';

const DAY = 86_400_000;

/** Days a copy is locked from its write: the generations kept, plus a day for a late run. */
export function contentLockDays(generations: number): number {
  return generations + 1;
}

/** The longest a content version is ever locked from a moment: a lengthened lock runs two terms. */
export function extendedLockDays(generations: number): number {
  return 2 * contentLockDays(generations);
}

/** The entries whose lock ends before the newest generation stops needing them, and the date to lengthen them to. */
export function locksToExtend(
  entries: readonly ManifestEntry[],
  now: Date,
  generations: number,
): { entries: ManifestEntry[]; until: Date } {
  const needed = now.getTime() + contentLockDays(generations) * DAY;
  const short = entries.filter((e) => !e.lockedUntil || Date.parse(e.lockedUntil) < needed);
  return { entries: short, until: new Date(now.getTime() + extendedLockDays(generations) * DAY) };
}
