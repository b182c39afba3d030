// Unit: the lock lengthening stride of carried content versions
// (domain/content-locks.ts): how far ahead a lock is set, that it is never a
// shortening, how many lengthenings a day it costs, and what the policy accepts.
import { describe, expect, it } from 'vitest';
import { contentLifecycleRules, type ManifestEntry } from '../../shared/domain/content.ts';
import {
  extendedLockDays,
  lengtheningsPerDay,
  locksToExtend,
  lockStrideDays,
} from '../../shared/domain/content-locks.ts';
import { retentionPrefixes } from '../../shared/domain/vault-retention.ts';
import { DEFAULT_POLICY_PATH, readPolicyDocument } from '../../shared/policy/load.ts';
import { parsePolicy } from '../../shared/policy/parse.ts';
import { PolicyError } from '../../shared/runtime/errors.ts';

const DAY = 86_400_000;
const entry = (key: string, lockedUntil?: number): ManifestEntry => ({
  key,
  size: 1,
  etag: '"e"',
  sha256: 's',
  versionId: 'v',
  mtime: '',
  ...(lockedUntil === undefined ? {} : { lockedUntil: new Date(lockedUntil).toISOString() }),
});

/** Days the rule lengthens `objects` over `days`, `churn` of them changed a day (a seeded generator). */
function simulate(
  objects: number,
  churn: number,
  terms: { generations: number; lockStrideDays?: number },
  days: number,
) {
  let seed = 12345;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const t0 = Date.UTC(2026, 10, 2);
  let manifest = Array.from({ length: objects }, (_, i) =>
    entry(`k${i}`, t0 + extendedLockDays(terms) * DAY),
  );
  const perDay: number[] = [];
  for (let d = 1; d <= days; d++) {
    // Each day's run reaches the objects a little later in the day (a minute): the upper bound's case.
    const now = t0 + d * (DAY + 60_000);
    const changed = new Set(manifest.filter(() => random() < churn).map((e) => e.key));
    const carried = manifest.filter((e) => !changed.has(e.key));
    const r = locksToExtend(carried, new Date(now), terms);
    const short = new Set(r.entries.map((e) => e.key));
    perDay.push(short.size);
    manifest = manifest.map((e) =>
      changed.has(e.key)
        ? entry(e.key, now + extendedLockDays(terms) * DAY)
        : short.has(e.key)
          ? entry(e.key, r.until.getTime())
          : e,
    );
  }
  return perDay;
}

describe('the lock lengthening stride', () => {
  it('sets a lock a term plus the stride ahead, the stride being a term unless the policy says more', () => {
    expect(lockStrideDays({ generations: 7 })).toBe(8);
    expect(extendedLockDays({ generations: 7 })).toBe(16);
    expect(lockStrideDays({ generations: 7, lockStrideDays: 30 })).toBe(30);
    expect(extendedLockDays({ generations: 7, lockStrideDays: 30 })).toBe(38);
    const now = Date.parse('2026-11-10T00:00:00Z');
    const r = locksToExtend(
      [entry('long', now + 9 * DAY), entry('short', now + 8 * DAY - 1000), entry('unknown')],
      new Date(now),
      { generations: 7, lockStrideDays: 30 },
    );
    // Which to lengthen depends on the term alone; how far, on the stride.
    expect(r.entries.map((e) => e.key)).toEqual(['short', 'unknown']);
    expect(r.until.getTime()).toBe(now + 38 * DAY);
  });

  it('never shortens a lock: the date is past every recorded one, and past a copy’s lock made by now', () => {
    const now = Date.parse('2026-11-10T00:00:00Z');
    for (const generations of [2, 7, 30]) {
      const term = generations + 1;
      for (const stride of [term, term + 1, 30, 90, 365]) {
        if (stride < term) continue;
        // Recorded locks anywhere from long past to beyond the longest a stride sets.
        const entries = Array.from({ length: 200 }, (_, i) => entry(`k${i}`, now + (i - 100) * DAY));
        const r = locksToExtend([...entries, entry('legacy')], new Date(now), {
          generations,
          lockStrideDays: stride,
        });
        for (const e of r.entries)
          if (e.lockedUntil) expect(r.until.getTime()).toBeGreaterThan(Date.parse(e.lockedUntil));
        // A version recorded without a date was copied at the latest now, locked two terms then.
        expect(r.until.getTime()).toBeGreaterThanOrEqual(now + 2 * term * DAY);
        expect(r.entries.map((e) => e.key)).toContain('legacy');
      }
    }
  });

  it('costs one lengthening per unchanged object every stride days: the rule simulated agrees with the rate', () => {
    // 1,000 objects, 1 % changed a day, 300 days; the first cycles (all copied at once) left out.
    for (const terms of [{ generations: 7 }, { generations: 7, lockStrideDays: 30 }]) {
      const perDay = simulate(1000, 0.01, terms, 300).slice(100);
      const mean = perDay.reduce((a, b) => a + b, 0) / perDay.length;
      const expected = lengtheningsPerDay(1000, 0.01, terms);
      expect(Math.abs(mean - expected) / expected).toBeLessThan(0.1);
    }
    // A longer stride: fewer requests (8-day stride ≈ 239 a day per 2,000 objects, 30-day ≈ 57).
    expect(Math.round(lengtheningsPerDay(2000, 0.01, { generations: 7 }))).toBe(239);
    expect(Math.round(lengtheningsPerDay(2000, 0.01, { generations: 7, lockStrideDays: 30 }))).toBe(57);
    expect(lengtheningsPerDay(800, 0, { generations: 7 })).toBe(100);
  });

  it('is accepted from a term up, refused below with the source and the least named; the lifecycle and the retention report follow it', () => {
    const doc = readPolicyDocument(DEFAULT_POLICY_PATH) as { content: Record<string, unknown>[] };
    const problems = (stride: unknown) => {
      const d = structuredClone(doc);
      (d.content[0] as Record<string, unknown>).lockStrideDays = stride;
      try {
        return { policy: parsePolicy(d, 'test.yml'), problems: [] as string[] };
      } catch (err) {
        if (err instanceof PolicyError) return { policy: undefined, problems: err.problems };
        throw err;
      }
    };
    expect(problems(7).problems.join('\n')).toMatch(
      /content\.0\.lockStrideDays.*lockStrideDays 7 is below a term of content app1-images \(generations \+ 1 = 8\); expected lockStrideDays >= 8/,
    );
    expect(problems(2.5).problems.join('\n')).toMatch(
      /content\.0\.lockStrideDays: found number 2\.5; expected int/,
    );
    const ok = problems(30).policy;
    expect(ok?.content[0]?.lockStrideDays).toBe(30);
    if (!ok) throw new Error('expected the policy to parse');
    const noncurrent = contentLifecycleRules(ok).filter((r) => r.Id.endsWith('-noncurrent'));
    expect(noncurrent.map((r) => r.NoncurrentVersionExpiration?.NoncurrentDays)).toEqual([38, 16]);
    const objects = retentionPrefixes(ok).filter((p) => p.prefix.endsWith('/objects/'));
    expect(objects.map((p) => p.days)).toEqual([38, 16]);
    expect(objects[0]?.why).toMatch(/stride of 30 days/);
  });
});
