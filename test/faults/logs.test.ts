// Faults (logs class): the daily archive and the monthly bundle (with a late
// file making a second part) end the same under 10% injected faults as in a
// clean run, and converge after a crash between copy and delete, between
// bundle upload and commit, and between commit and the deletes; findOrphans
// reports what each crash leaves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_POINTS } from './crash-points.ts';
import { closeProxies, runWorld, type WorldRun } from './harness.ts';
import { logs } from './scenarios.ts';
import { cleanRun, crashAndRerun, expectFaultsAbsorbed, expectSameState, motoEndpoint } from './support.ts';

let reference: WorldRun;
beforeAll(async () => {
  reference = await cleanRun(logs);
});
afterAll(closeProxies);

const point = (name: string) => {
  const p = CRASH_POINTS.logs.find((x) => x.name.startsWith(name));
  if (!p) throw new Error(`no crash point ${name}`);
  return p;
};

describe('logs class under faults', () => {
  it('ends as a clean run does when 10% of requests fail, stall or lose their answer', async () => {
    const r = await expectFaultsAbsorbed(logs, reference, 0.1, 31);
    expect(r.stats.retriesObserved).toBeGreaterThan(0);
  });

  it('does not fail a move or a bundle when a conditional delete was applied but its answer lost', async () => {
    // Regression: the retried DeleteObject (If-Match) of a key already gone answered 404 and failed the file.
    const { endpoint, admin } = motoEndpoint();
    const r = await runWorld(logs, endpoint, admin, {
      rate: 1,
      seed: 5,
      kinds: ['dropAfter'],
      retries: 0,
      eligible: (q) => q.operation === 's3:DeleteObject' && q.nth % 4 === 1,
    });
    expect(r.stats.injected.dropAfter).toBeGreaterThan(2);
    expect(r.steps.filter((s) => !s.ok)).toEqual([]);
    expectSameState(reference, r.state);
  });

  it('reports landing files already in the vault after a crash between copy and delete; the rerun removes them', async () => {
    const r = await crashAndRerun(logs, reference, point('archive: copied to the vault'));
    expect(r.orphansAfterCrash.length).toBeGreaterThan(0);
    expect(
      r.orphansAfterCrash.every((o) => o.kind === 'object' && o.reason.includes('not removed from landing')),
    ).toBe(true);
  });

  it('reports an uncommitted bundle after a crash between upload and manifest; the rerun rewrites and commits it', async () => {
    const r = await crashAndRerun(logs, reference, point('bundle uploaded, manifest not written'));
    expect(r.orphansAfterCrash.map((o) => o.kind)).toEqual(['bundle']);
  });

  it('reports bundled originals after a crash between commit and delete; the rerun removes them', async () => {
    const r = await crashAndRerun(logs, reference, point('bundle committed, originals not deleted'));
    expect(r.orphansAfterCrash.length).toBeGreaterThan(0);
    expect(r.orphansAfterCrash.every((o) => o.reason.includes('already in a committed bundle'))).toBe(true);
  });
});
