import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planPruning, type RecoveryPoint } from '../../shared/domain/retention.ts';
import { addDays } from '../../shared/policy/calendar.ts';

const now = new Date('2026-11-21T19:00:00Z');
const daily = (n: number, extra: Partial<RecoveryPoint> = {}): RecoveryPoint[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `d${i}`,
    time: addDays(now, -i),
    managed: true,
    complete: true,
    ...extra,
  }));

describe('planPruning', () => {
  it('keeps exactly retainDays of daily points and prunes the rest', () => {
    const plan = planPruning(daily(10), { retainDays: 7, minGenerations: 3 }, now);
    expect(plan.keep.map((k) => k.id)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6']);
    expect(plan.prune.map((p) => p.id)).toEqual(['d7', 'd8', 'd9']);
  });

  it('never goes below the minimum generations when all points are old', () => {
    const old = daily(5).map((p) => ({ ...p, time: addDays(p.time, -20) }));
    const plan = planPruning(old, { retainDays: 7, minGenerations: 3 }, now);
    expect(plan.keep.map((k) => k.id)).toEqual(['d0', 'd1', 'd2']);
    expect(plan.prune.map((p) => p.id)).toEqual(['d3', 'd4']);
  });

  it('never prunes an unmanaged point, whatever its age', () => {
    const points = [
      ...daily(3),
      { id: 'operator', time: addDays(now, -400), managed: false, complete: true },
    ];
    const plan = planPruning(points, { retainDays: 1, minGenerations: 1 }, now);
    expect(plan.prune.map((p) => p.id)).not.toContain('operator');
    expect(plan.keep).toContainEqual({ id: 'operator', reason: 'not kura-managed' });
  });

  it('keeps the newest validated point even when it is past retention', () => {
    const points = daily(10);
    (points[8] as RecoveryPoint).validated = true;
    (points[9] as RecoveryPoint).validated = true;
    const plan = planPruning(points, { retainDays: 7, minGenerations: 3 }, now);
    expect(plan.keep).toContainEqual({ id: 'd8', reason: 'newest validated recovery point' });
    expect(plan.prune.map((p) => p.id)).toEqual(['d7', 'd9']);
  });

  it('does not count incomplete points as generations', () => {
    const points = daily(4);
    (points[0] as RecoveryPoint).complete = false;
    const old = points.map((p) => ({ ...p, time: addDays(p.time, -30) }));
    const plan = planPruning(old, { retainDays: 7, minGenerations: 3 }, now);
    expect(plan.keep.map((k) => k.id).sort()).toEqual(['d0', 'd1', 'd2', 'd3']);
    expect(plan.prune).toEqual([]);
  });

  it('caps by count and protects points in use', () => {
    const points = daily(6);
    (points[5] as RecoveryPoint).protectedBy = 'used by launch template lt-1';
    const plan = planPruning(points, { minGenerations: 2, maxGenerations: 3 }, now);
    expect(plan.prune.map((p) => p.id)).toEqual(['d3', 'd4']);
    expect(plan.keep).toContainEqual({ id: 'd5', reason: 'used by launch template lt-1' });
  });
});

describe('planPruning never prunes what must stay, whatever the ages and "now" (property)', () => {
  const DAY = 86_400_000;
  const pointArb = fc.record({
    offsetHours: fc.integer({ min: -400 * 24, max: 40 * 24 }),
    managed: fc.boolean(),
    complete: fc.boolean(),
    validated: fc.boolean(),
    protectedBy: fc.option(fc.constant('used by launch template lt-1'), { nil: undefined }),
  });
  const caseArb = fc.record({
    points: fc.array(pointArb, { maxLength: 30 }),
    nowOffsetDays: fc.integer({ min: -60, max: 60 }),
    rule: fc
      .record({
        retainDays: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
        minGenerations: fc.integer({ min: 1, max: 10 }),
        extra: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
      })
      .map(({ retainDays, minGenerations, extra }) => ({
        retainDays,
        minGenerations,
        maxGenerations: extra === undefined ? undefined : minGenerations + extra,
      })),
  });

  it('keeps the newest minGenerations, the newest validated, protected, unmanaged and incomplete points, and anything newer than now', () => {
    fc.assert(
      fc.property(caseArb, ({ points: raw, nowOffsetDays, rule }) => {
        const base = now.getTime();
        const runNow = new Date(base + nowOffsetDays * DAY);
        const points: RecoveryPoint[] = raw.map((p, i) => ({
          id: `p${i}`,
          time: new Date(base + p.offsetHours * 3_600_000),
          managed: p.managed,
          complete: p.complete,
          validated: p.validated,
          protectedBy: p.protectedBy,
        }));

        const plan = planPruning(points, rule, runNow);

        const pruned = new Set(plan.prune.map((d) => d.id));
        // Every point is decided exactly once.
        expect([...plan.keep, ...plan.prune].map((d) => d.id).sort()).toEqual(points.map((p) => p.id).sort());
        expect(pruned.size).toBe(plan.prune.length);
        const generations = points
          .filter((p) => p.managed && p.complete)
          .sort((a, b) => b.time.getTime() - a.time.getTime());
        const newest = new Set(generations.slice(0, rule.minGenerations).map((p) => p.id));
        const newestValidated = generations.find((p) => p.validated)?.id;
        for (const p of points) {
          if (!pruned.has(p.id)) continue;
          expect(p.managed, `${p.id} is not kura-managed`).toBe(true);
          expect(p.complete, `${p.id} is not complete`).toBe(true);
          expect(newest.has(p.id), `${p.id} is within the newest ${rule.minGenerations}`).toBe(false);
          expect(p.id).not.toBe(newestValidated);
          expect(p.protectedBy).toBeUndefined();
          expect(p.time.getTime(), `${p.id} is newer than the run`).toBeLessThanOrEqual(runNow.getTime());
          if (rule.maxGenerations === undefined && rule.retainDays !== undefined)
            expect(p.time.getTime()).toBeLessThanOrEqual(runNow.getTime() - rule.retainDays * DAY);
        }
        // At least minGenerations complete generations remain (or all there were).
        expect(generations.filter((p) => !pruned.has(p.id)).length).toBeGreaterThanOrEqual(
          Math.min(rule.minGenerations, generations.length),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('a replayed old run (now 30 days ago) prunes none of the newer points, even by the count cap', () => {
    const points = daily(12);
    const replayNow = addDays(now, -30);
    const plan = planPruning(points, { minGenerations: 3, maxGenerations: 3 }, replayNow);
    expect(plan.prune).toEqual([]);
    expect(plan.keep).toContainEqual({
      id: 'd11',
      reason: `newer than this run's time ${replayNow.toISOString()}`,
    });
  });

  it('a point tagged in the future (skewed clock) is never pruned, and older ones follow the usual rules', () => {
    const points = [...daily(10), { id: 'skewed', time: addDays(now, 20), managed: true, complete: true }];
    const plan = planPruning(points, { retainDays: 7, minGenerations: 3 }, now);
    expect(plan.prune.map((p) => p.id)).toEqual(['d7', 'd8', 'd9']);
    expect(plan.keep.map((k) => k.id)).toContain('skewed');
  });
});
