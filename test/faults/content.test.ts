// Faults (content class): three daily generations (chunked, with changes,
// deletions and pruning) end the same under 10% injected faults as in a clean
// run, and converge after a crash between copy and manifest or mid-prune; a
// crash leaves an incomplete generation that findOrphans reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_POINTS } from './crash-points.ts';
import { closeProxies, type WorldRun } from './harness.ts';
import { content } from './scenarios.ts';
import { cleanRun, crashAndRerun, expectFaultsAbsorbed } from './support.ts';

let reference: WorldRun;
beforeAll(async () => {
  reference = await cleanRun(content);
});
afterAll(closeProxies);

const point = (name: string) => {
  const p = CRASH_POINTS.content.find((x) => x.name.startsWith(name));
  if (!p) throw new Error(`no crash point ${name}`);
  return p;
};

describe('content class under faults', () => {
  it('ends as a clean run does when 10% of requests fail, stall or lose their answer', async () => {
    const r = await expectFaultsAbsorbed(content, reference, 0.1, 21);
    expect(r.stats.retriesObserved).toBeGreaterThan(0);
  });

  it('reports the interrupted generation after a crash between copy and manifest, and the rerun completes it', async () => {
    const r = await crashAndRerun(content, reference, point('between copy and manifest: mid-copies'));
    expect(r.orphansAfterCrash.map((o) => o.kind)).toEqual(['checkpoint']);
    expect(r.orphansAfterCrash[0]?.reason).toContain('has no index');
  });

  it('reports a half-written generation (summary, no index), and the rerun writes the index', async () => {
    const r = await crashAndRerun(content, reference, point('summary written, index not'));
    expect(r.orphansAfterCrash.map((o) => o.kind).sort()).toEqual(['checkpoint', 'manifest']);
  });

  it('prunes on the rerun when the crash came after the index but before pruning', async () => {
    const r = await crashAndRerun(content, reference, point('mid-prune'));
    expect(r.orphansAfterCrash).toEqual([]);
  });

  it('converges after a crash right after the first copy of the first generation', async () => {
    await crashAndRerun(content, reference, point('between copy and manifest: first copy done'));
  });
});
