// Faults (image class): weekly AMIs with DR copies end the same
// under 10% injected faults as in a clean run, and converge after an image or
// a copy was made but its answer lost (both are tagged at creation, as on
// AWS). Mid-prune is in the full form (bench).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_POINTS } from './crash-points.ts';
import { closeProxies, runWorld, type WorldRun } from './harness.ts';
import { image } from './scenarios.ts';
import { cleanRun, crashAndRerun, expectFaultsAbsorbed, expectSameState, motoEndpoint } from './support.ts';

let reference: WorldRun;
beforeAll(async () => {
  // Reduced form: the first two weekly runs (images, DR copies); the third
  // (pruning) runs in the full form, bench/faults/run.ts: moto's EC2 is slow.
  reference = await cleanRun(image, 2);
});
afterAll(closeProxies);

const point = (name: string) => {
  const p = CRASH_POINTS.image.find((x) => x.name.startsWith(name));
  if (!p) throw new Error(`no crash point ${name}`);
  return p;
};

describe('image class under faults', () => {
  it('ends as a clean run does when 10% of requests fail, stall or lose their answer', async () => {
    const r = await expectFaultsAbsorbed(image, reference, 0.1, 41, 2);
    expect(r.stats.retriesObserved).toBeGreaterThan(0);
  });

  it('adopts its image when CreateImage was applied but its answer lost (InvalidAMIName.Duplicate on retry)', async () => {
    const { endpoint, admin } = motoEndpoint();
    const r = await runWorld(image, endpoint, admin, {
      rate: 1,
      seed: 7,
      kinds: ['dropAfter'],
      retries: 0,
      maxSteps: 2,
      eligible: (q) => ['ec2:CreateImage', 'ec2:CopyImage'].includes(q.operation),
    });
    // Both images and the DR copy of the first: every create and copy lost its first answer.
    expect(r.stats.injected.dropAfter).toBeGreaterThanOrEqual(3);
    expect(r.steps.filter((s) => !s.ok)).toEqual([]);
    expectSameState({ ...reference, state: reference.statesAfterStep[1] }, r.state);
  });

  it('leaves a tagged DR copy after a crash right after CopyImage; the rerun adopts it, no second copy', async () => {
    // The copy carries kura's tags from its creation (CopyImage TagSpecifications, as on AWS):
    // nothing is an orphan after the crash, and the rerun ends as a clean run does.
    const r = await crashAndRerun(image, reference, point('DR copy made'));
    expect(r.orphansAfterCrash.map((o) => o.kind)).not.toContain('image');
  });

  // Mid-prune (image deregistered, its snapshots not yet deleted) runs in the
  // full form (bench/faults/run.ts): a third weekly run costs ~20 s on moto.
});
