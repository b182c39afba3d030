// The orchestrated restore refuses bad requests before touching anything:
// every problem listed at once, and nothing new in either account.
import { beforeAll, describe, expect, it } from 'vitest';
import { runRestoreLocally } from '../../local/restore.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { PreflightError } from '../../shared/restore/preflight.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { awsRestorePorts } from '../../shared/edge/restore-ports.ts';
import { planRestore } from '../../shared/usecases/restore.ts';
import { asFunction, operatorClients } from '../../local/iam/principals.ts';
import { withoutGrant } from '../support/iam.ts';
import { clock, emulatorClients } from '../support/emulator.ts';
import {
  accountView,
  databaseWithSnapshots,
  ISOLATED_ROLE,
  restoreKeys,
  restorePolicy,
} from '../support/restore.ts';

let clients: Clients;
let isolated: Clients;
let deps: Deps;
let db: string;
const SNAPSHOT_TIME = new Date(Math.floor((Date.now() - 6 * 3600_000) / 60_000) * 60_000);
const stampOf = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 12);

beforeAll(async () => {
  clients = emulatorClients();
  deps = { policy: await restorePolicy(clients), clients };
  isolated = await operatorClients(ISOLATED_ROLE.split(':')[4] ?? '', clients);
  db = await databaseWithSnapshots(deps, [SNAPSHOT_TIME]);
  // Requests are made now: AWS has finished that snapshot.
  clock.set(new Date());
});

async function refused(request: unknown): Promise<InputError> {
  const before = { source: await accountView(clients, db), isolated: await accountView(isolated, db) };
  const err = await planRestore(
    request,
    await asFunction('restore', deps),
    new Date(),
    awsRestorePorts(await asFunction('restore', deps)),
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  // Nothing was created in either account, and nothing recorded in the vault.
  expect(await accountView(clients, db)).toEqual(before.source);
  expect(await accountView(isolated, db)).toEqual(before.isolated);
  expect(await restoreKeys(clients, deps.policy.vault.bucket)).toEqual([]);
  return err as InputError;
}

describe('restore request validation', () => {
  it('lists every schema problem at once when the request is malformed', async () => {
    const err = await refused({
      reason: '',
      target: { account: '999999999999' },
      database: { instance: 'shop_db!', snapshot: 'latest' },
      instances: [{ instance: 'web-1', image: 'newest' }],
      logs: [{ class: 'access', host: 'web-1', from: '2026-13-01' }],
      color: 'blue',
    });
    const text = err.problems.join('\n');
    expect(text).toContain('request: reason');
    expect(text).toContain('request: database.instance');
    expect(text).toContain('request: instances.0.instance');
    expect(text).toContain('request: instances.0.image');
    expect(text).toContain('request: logs.0.from');
    expect(text).toContain('unknown key(s) "color"');
    expect(err.problems.length).toBeGreaterThanOrEqual(6);
  });

  it('rejects contradictions against the policy and the clock when the shape is right', async () => {
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const err = await refused({
      reason: 'restore everything',
      target: { account: '999999999999' },
      at: future,
      database: { instance: db, snapshot: 'latest' },
      content: [{ source: 'no-such-source' }],
      logs: [{ class: 'audit', host: 'web-1', from: '2026-01-10', to: '2026-01-01' }],
    });
    const text = err.problems.join('\n');
    expect(text).toContain('target.account: found "999999999999"');
    expect(text).toContain('is in the future');
    expect(text).toContain('database.snapshot: "latest" given together with "at"');
    expect(text).toContain('content.0.source: found "no-such-source"');
    expect(text).toContain('logs.0.class: found "audit"');
    expect(text).toContain('from 2026-01-10 is after to 2026-01-01');
  });

  it('reports every pre-flight blocker at once when recovery points are missing or out of the window', async () => {
    const err = await refused({
      reason: 'restore a snapshot that does not exist',
      database: { instance: db, snapshot: 'kura-nope-202601010000' },
      instances: [{ instance: 'i-0123456789abcdef0', image: 'latest' }],
    });
    expect(err).toBeInstanceOf(PreflightError);
    // One line per blocker, each from its own class's recovery points.
    expect(err.problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^database ${db}: recovery point kura-nope-202601010000 not found among kura-managed ones; newest available: kura-${db}-\\d{12} \\(`,
        ),
      ),
      'image i-0123456789abcdef0: no kura-managed recovery point; image sources with backups: (none)',
    ]);
    const pitr = await refused({
      reason: 'before the database existed',
      database: { instance: db, snapshot: new Date(Date.now() - 3 * 86_400_000).toISOString() },
    });
    expect(pitr.problems.join('\n')).toContain('outside the point-in-time window');
  });

  it('names the nearest snapshot to use instead of a point in time outside the window', async () => {
    const pitr = await refused({
      reason: 'before the database existed',
      database: { instance: db, snapshot: new Date(Date.now() - 3 * 86_400_000).toISOString() },
    });
    const snapshot = `kura-${db}-${stampOf(SNAPSHOT_TIME)}`;
    expect(pitr.problems.join('\n')).toContain(`the nearest snapshot is ${snapshot} (`);
    expect(pitr.problems.join('\n')).toContain(`use "snapshot": "${snapshot}"`);
  });

  it('lists the databases that have backups when the name has a typo', async () => {
    const err = await refused({
      reason: 'typo in the name',
      database: { instance: `${db}x`, snapshot: 'latest' },
    });
    expect(err.problems).toEqual([
      `database ${db}x: no kura-managed recovery point; database sources with backups: ${db}`,
    ]);
    const pitr = await refused({
      reason: 'typo in the name',
      database: { instance: `${db}x`, snapshot: new Date(Date.now() - 3600_000).toISOString() },
    });
    expect(pitr.problems.join('\n')).toContain(`databases with backups: ${db}`);
  });

  it('shows a time written with another offset than the policy zone, and a point hours away from the time asked', async () => {
    // 1 h ago, written in UTC: the policy's zone is Asia/Tokyo (+09:00); the only snapshot is 5 h before it.
    const at = new Date(Math.floor((Date.now() - 3600_000) / 60_000) * 60_000)
      .toISOString()
      .replace('.000Z', 'Z');
    const fn = await asFunction('restore', deps);
    const planned = await planRestore(
      { reason: 'offsets', at, database: { instance: db } },
      fn,
      new Date(),
      awsRestorePorts(fn),
    );
    const text = planned.plan.warnings.join('\n');
    expect(text).toContain(`at: ${at} is written with offset +00:00, not Asia/Tokyo's +09:00: it means `);
    expect(text).toContain(`If you meant ${at.slice(11, 16)} in Asia/Tokyo, write ${at.slice(0, 19)}+09:00.`);
    expect(text).toMatch(
      new RegExp(
        `database ${db}: the recovery point for .* is kura-${db}-\\d{12}, taken .*, 5 h earlier; there is none after it`,
      ),
    );
    expect(await restoreKeys(clients, deps.policy.vault.bucket)).toEqual([]);
  });

  it('names a refused quota read in the warning, and checks the quotas it can read', async () => {
    // Prepare: the roles without rds:DescribeAccountAttributes (the IAM front layer refuses it as AWS would).
    const fn = await asFunction('restore', deps);
    // Act
    const { result: planned } = await withoutGrant('rds:DescribeAccountAttributes', () =>
      planRestore(
        { reason: 'quota words', database: { instance: db, snapshot: 'latest' } },
        fn,
        new Date(),
        awsRestorePorts(fn),
      ),
    );
    // Assess
    expect(planned?.preflight.warnings).toContainEqual(
      expect.stringMatching(/^quota not checked: RDS account quotas \(AccessDenied.*rds:DescribeAccountAttributes/),
    );
    const all = await planRestore(
      { reason: 'quota words', database: { instance: db, snapshot: 'latest' } },
      fn,
      new Date(),
      awsRestorePorts(fn),
    );
    expect(all.preflight.warnings.filter((w) => w.startsWith('quota not checked'))).toEqual([]);
  });

  it('blocks when a quota in the target account would be exceeded', async () => {
    const fnDeps = await asFunction('restore', deps);
    const ports = awsRestorePorts(fnDeps);
    ports.preflight = {
      ...ports.preflight,
      quotas: async () => ({ quotas: [{ name: 'DBInstances', used: 40, max: 40 }], unreadable: [] }),
    };
    const err = await planRestore(
      { reason: 'quota test', database: { instance: db, snapshot: 'latest' } },
      fnDeps,
      new Date(),
      ports,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(PreflightError);
    expect((err as PreflightError).problems[0]).toContain(
      'quota DBInstances would be exceeded (40 used + 1 needed > 40)',
    );
  });

  it('stops the state machine at Refused with every problem in the cause when run with a bad request', async () => {
    const before = await accountView(isolated, 'nope');
    const out = await runRestoreLocally({ reason: 'x', database: { instance: 'nope!' } }, { deps });
    expect(out.status).toBe('FAILED');
    expect(out.visited).toEqual(['Plan', 'Refused']);
    expect(out.cause).toContain('database.instance');
    expect(out.cause).toContain('reason');
    expect(await accountView(isolated, 'nope')).toEqual(before);
    expect(await restoreKeys(clients, deps.policy.vault.bucket)).toEqual([]);
  });
});
