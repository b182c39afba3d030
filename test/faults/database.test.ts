// Faults (database class): daily snapshots with DR copy, sharing and pruning
// end the same under 10% injected faults as in a clean run, and converge after
// a crash at the points that hurt (snapshot made but answer lost, between
// snapshot and copy, mid-prune). Reduced form of bench/faults/run.ts.
import { CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estatePorts } from '../../shared/edge/report-ports.ts';
import { findOrphans } from '../../shared/usecases/orphans.ts';
import { CRASH_POINTS } from './crash-points.ts';
import { closeProxies, runWorld, type WorldRun } from './harness.ts';
import { basePolicy, database } from './scenarios.ts';
import { cleanRun, crashAndRerun, expectFaultsAbsorbed, motoEndpoint } from './support.ts';
import { createDatabase } from '../support/rds.ts';

let reference: WorldRun;
beforeAll(async () => {
  reference = await cleanRun(database);
});
afterAll(closeProxies);

describe('database class under faults', () => {
  it('ends as a clean run does when 10% of requests fail, stall or lose their answer', async () => {
    const r = await expectFaultsAbsorbed(database, reference, 0.1, 11);
    expect(r.stats.retriesObserved).toBeGreaterThan(0);
  });

  it('adopts its own snapshot when CreateDBSnapshot was applied but its answer lost (AlreadyExists on retry)', async () => {
    const { endpoint, admin } = motoEndpoint();
    const r = await runWorld(database, endpoint, admin, {
      rate: 1,
      seed: 3,
      kinds: ['dropAfter'],
      retries: 0,
      eligible: (q) =>
        q.nth === 1 &&
        [
          'rds:CreateDBSnapshot',
          'rds:CopyDBSnapshot',
          'rds:DeleteDBSnapshot',
          'rds:ModifyDBSnapshotAttribute',
        ].includes(q.operation),
    });
    expect(r.stats.injected.dropAfter).toBe(4);
    expect(r.steps.every((s) => s.ok && s.invocations === 1)).toBe(true);
    expect(r.state).toEqual(reference.state);
  });

  for (const point of CRASH_POINTS.database) {
    it(`converges after a crash: ${point.name}`, async () => {
      await crashAndRerun(database, reference, point);
    });
  }

  it("reports a snapshot named like kura's but without its tags as an orphan", async () => {
    const { admin } = motoEndpoint();
    const policy = basePolicy(`orph${Date.now().toString(36)}`, () => {});
    const db = `shop-${policy.selector.tagKey.slice(-8)}`;
    await createDatabase(admin, db, { [policy.selector.tagKey]: 'true' });
    await admin.get(RDSClient).send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: db,
        DBSnapshotIdentifier: `kura-${db}-202610011900`,
      }),
    );
    const orphans = (
      await findOrphans({ policy, clients: admin }, estatePorts({ policy, clients: admin }))
    ).filter((o) => o.class === 'database');
    expect(orphans).toHaveLength(1);
    expect(orphans[0]).toMatchObject({ kind: 'snapshot', region: 'ap-northeast-1' });
    expect(orphans[0]?.id).toContain(`kura-${db}-202610011900`);
  });
});
