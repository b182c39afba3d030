import { describe, expect, it } from 'vitest';
import { addDays } from '../../shared/domain/calendar.ts';
import { planPruning, type RecoveryPoint } from '../../shared/domain/retention.ts';

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
