// The middy-wrapped Lambda edge, invoked as Lambda would: policy from
// KURA_POLICY_JSON, EventBridge Scheduler event in, failures thrown.

import { CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import type { Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { continuesContentRun } from '../../functions/content-backup/handler.ts';
import { lambdaHandler } from '../../shared/edge/lambda.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { createDatabase } from '../support/rds.ts';

const context = {
  functionName: 'kura-prod-rds-snapshot',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

beforeAll(() => {
  emulatorClients();
});
afterEach(() => {
  delete process.env.KURA_POLICY_JSON;
});

/** An edge around a run that only records the times it was called with. */
function probe(opts: Parameters<typeof lambdaHandler>[2] = {}) {
  process.env.KURA_POLICY_JSON = JSON.stringify(testPolicy());
  const calls: string[] = [];
  const handler = lambdaHandler(
    'probe',
    async (e) => {
      calls.push(e.time);
      return { function: 'probe', time: e.time, ok: true, targets: [], warnings: [], metrics: [] };
    },
    opts,
  );
  return { handler, calls };
}

describe('lambdaHandler', () => {
  it('fails the invocation when a target failed, after trying every target', async () => {
    const policy = testPolicy((p) => {
      if (p.database) {
        p.database.copy = undefined;
        p.database.shareWithIsolatedAccount = false;
      }
    });
    process.env.KURA_POLICY_JSON = JSON.stringify(policy);
    const clients = emulatorClients();
    const rds = clients.get(RDSClient);
    const good = `edge-good-${uniqueSuffix()}`;
    const bad = `edge-bad-${uniqueSuffix()}`;
    for (const id of [bad, good]) await createDatabase(clients, id, { [policy.selector.tagKey]: 'true' });
    await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: bad,
        DBSnapshotIdentifier: `kura-${bad}-202611011900`,
      }),
    );
    const { run } = await import('../../functions/rds-snapshot/handler.ts');
    const handler = lambdaHandler('rds-snapshot', run, { clock: () => new Date('2026-11-01T19:05:00Z') });

    const err = (await handler({ time: '2026-11-01T19:00:00Z', detail: {} }, context).catch(
      (e: unknown) => e,
    )) as Error & { result: RunResult };

    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('PartialFailureError');
    expect(err.message).toBe('rds-snapshot: 1 target(s) failed');
    expect(err.result.targets.find((t) => t.target === good)?.status).toBe('ok');
  });

  it('rejects an event without a valid time before doing anything', async () => {
    const { handler, calls } = probe();

    await expect(handler({ time: 'not a time' }, context)).rejects.toThrow(
      /event\.time: expected an ISO-8601 time/,
    );
    expect(calls).toEqual([]);
  });

  it('runs nothing for an event hours behind or ahead of the clock (a replay or a skewed clock)', async () => {
    const { handler, calls } = probe({ clock: () => new Date('2026-11-21T19:00:00Z') });

    await expect(handler({ time: '2026-10-22T19:00:00Z' }, context)).rejects.toThrow(
      /event\.time: 2026-10-22T19:00:00\.000Z is 720\.0 h behind the clock .*expected at most 3\.0 h: a replayed/,
    );
    await expect(handler({ time: '2026-11-21T15:59:00Z' }, context)).rejects.toThrow(
      /3\.0 h behind the clock/,
    );
    await expect(handler({ time: '2026-11-22T19:00:00Z' }, context)).rejects.toThrow(
      /event\.time: 2026-11-22T19:00:00\.000Z is 24\.0 h ahead of the clock .*expected at most 15 min/,
    );
    expect(calls).toEqual([]);

    // A scheduled run delivered late within the scheduler's retry window still runs.
    await handler({ time: '2026-11-21T17:30:00Z' }, context);
    await handler({ time: '2026-11-21T19:10:00Z' }, context);
    expect(calls).toEqual(['2026-11-21T17:30:00Z', '2026-11-21T19:10:00Z']);
  });

  it('lets a continuation of a run under way through however late (content slices), but not its start', async () => {
    const { handler, calls } = probe({
      clock: () => new Date('2026-11-21T19:00:00Z'),
      continues: continuesContentRun,
    });

    await expect(handler({ time: '2026-11-20T20:30:00Z' }, context)).rejects.toThrow(/behind the clock/);
    await handler({ time: '2026-11-20T20:30:00Z', result: { complete: false } }, context);
    expect(calls).toEqual(['2026-11-20T20:30:00Z']);
  });

  it('fails fast on a policy that does not validate', async () => {
    process.env.KURA_POLICY_JSON = JSON.stringify({ version: 1, timezone: 'Asia/Tokyo' });
    const handler = lambdaHandler('probe', async () => ({
      function: 'probe',
      time: '',
      ok: true,
      targets: [],
      warnings: [],
      metrics: [],
    }));

    await expect(handler({ time: '2026-11-01T19:00:00Z' }, context)).rejects.toThrow(
      /KURA_POLICY_JSON: region: missing/,
    );
  });
});
