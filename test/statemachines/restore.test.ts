// The restore state machine, run locally through the same ASL file, against
// moto: the database phase, resume, PITR, and a failure mid-way.

import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRestoreLocally } from '../../local/restore.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { RestoreFailedError } from '../../shared/restore/database.ts';
import type { ItemRecord, RestoreReport } from '../../shared/restore/plan.ts';
import { awsDatabaseItemPorts } from '../../shared/edge/restore-ports.ts';
import { restoreItem } from '../../shared/usecases/restore.ts';
import { operatorClients } from '../../local/iam/principals.ts';
import { clock, emulatorClients } from '../support/emulator.ts';
import { accountView, databaseWithSnapshots, ISOLATED_ROLE, restorePolicy } from '../support/restore.ts';
import { databaseRestoreStep } from '../../shared/edge/restore-steps.ts';

let clients: Clients;
let deps: Deps;
let isolated: Clients;

beforeAll(async () => {
  clients = emulatorClients();
  deps = { policy: await restorePolicy(clients), clients };
  isolated = await operatorClients(ISOLATED_ROLE.split(':')[4] ?? '', clients);
});

const hoursAgo = (h: number) => new Date(Math.floor((Date.now() - h * 3600_000) / 60_000) * 60_000);

describe('restore state machine (local)', () => {
  it('restores the database from the snapshot closest before `at` when the request names a time', async () => {
    // Prepare
    const [t1, t2, t3] = [hoursAgo(30), hoursAgo(20), hoursAgo(5)];
    const db = await databaseWithSnapshots(deps, [t1, t2, t3]);
    const visited: string[] = [];
    // Act
    clock.set(new Date()); // the restore runs now, after the backups
    const out = await runRestoreLocally(
      {
        reason: 'rehearse: data deleted by mistake',
        at: new Date(t2.getTime() + 3600_000).toISOString(),
        database: { instance: db },
      },
      { deps, onEvent: (e) => e.type === 'StateEntered' && e.state && visited.push(e.state) },
    );
    // Assess
    expect(out.status, out.cause).toBe('SUCCEEDED');
    const result = out.output as {
      requestId: string;
      status: string;
      summary: { items: { recoveryPoint: string; time: string; endpoint?: string }[] };
    };
    expect(result.status).toBe('SUCCEEDED');
    expect(result.summary.items[0]?.time).toBe(t2.toISOString());
    expect(visited).toEqual(
      expect.arrayContaining(['Plan', 'Database', 'Servers', 'ContentAndLogs', 'Report']),
    );
    const view = await accountView(isolated);
    expect(
      view.dbInstances.some((d) => d.includes(result.requestId.replace(/^rq-/, '')) || d.includes(db)),
    ).toBe(true);
    const report = await new S3RestoreStore(clients, deps.policy.vault.bucket).get<RestoreReport>(
      result.requestId,
      'report.json',
    );
    expect(report?.items[0]?.endpoint).toBeTruthy();
  });

  it('resumes without duplicating anything when the same request runs again', async () => {
    // Prepare
    const db = await databaseWithSnapshots(deps, [hoursAgo(10)]);
    const request = {
      reason: 'incident 4711: orders table truncated',
      ticket: 'INC-4711',
      database: { instance: db, snapshot: 'latest' },
    };
    clock.set(new Date()); // the restore runs now, after the backups
    const first = await runRestoreLocally(request, { deps });
    // This database's restores only: other test files restore into the same isolated account meanwhile.
    const before = await accountView(isolated, db);
    const id = (first.output as { requestId: string }).requestId;
    const store = new S3RestoreStore(clients, deps.policy.vault.bucket);
    const attempts = (await store.get<ItemRecord>(id, `items/database-${db}.json`))?.attempts ?? 0;
    // Act
    clock.set(new Date()); // the restore runs now, after the backups
    const second = await runRestoreLocally(request, { deps });
    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(second.status).toBe('SUCCEEDED');
    expect((second.output as { requestId: string }).requestId).toBe(
      (first.output as { requestId: string }).requestId,
    );
    expect(await accountView(isolated, db)).toEqual(before);
    expect(before.dbInstances.length).toBeGreaterThan(0);
    // The first run took several attempts (AWS copies and restores take longer than one
    // attempt waits); the second resumed the finished item without another.
    expect(attempts).toBeGreaterThan(1);
    expect((await store.get<ItemRecord>(id, `items/database-${db}.json`))?.attempts).toBe(attempts);
  });

  it('restores a point in time through a temporary instance and removes it afterwards', async () => {
    // Prepare
    const created = Date.now();
    const db = await databaseWithSnapshots(deps, [hoursAgo(3)]);
    // moto's point-in-time window opens when the database is created.
    await new Promise((r) => setTimeout(r, 1500));
    const pointInTime = new Date(created + 1000).toISOString();
    // Act: six minutes later, as RDS's newest restorable point trails by its 5-minute log uploads.
    clock.set(new Date(Date.now() + 6 * 60_000));
    const out = await runRestoreLocally(
      { reason: 'rows deleted at 02:59', database: { instance: db, snapshot: pointInTime } },
      { deps },
    );
    // Assess
    expect(out.status, out.cause).toBe('SUCCEEDED');
    const { requestId } = out.output as { requestId: string };
    const report = await new S3RestoreStore(clients, deps.policy.vault.bucket).get<RestoreReport>(
      requestId,
      'report.json',
    );
    expect(report?.items[0]?.recoveryPoint.time).toBe(new Date(pointInTime).toISOString());
    expect(report?.items[0]?.status).toBe('done');
    const rds = clients.get(RDSClient);
    const temp = `kura-pitr-${requestId.replace(/^rq-/, '')}-${db}`;
    await expect(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: temp }))).rejects.toThrow(
      /not found/i,
    );
    await expect(rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: temp }))).rejects.toThrow(
      /not found/i,
    );
    expect(
      (await accountView(isolated)).dbInstances.some((d) => d.includes(requestId.replace(/^rq-/, ''))),
    ).toBe(true);
  });

  it('reports what exists and how to remove it when a step fails mid-way', async () => {
    // Prepare: a point-in-time restore whose hand-over to the database step fails
    // after the temporary instance and snapshot exist in the source account.
    const created = Date.now();
    const db = await databaseWithSnapshots(deps, [hoursAgo(4)]);
    await new Promise((r) => setTimeout(r, 1500));
    const leftover = {
      type: 'AWS::RDS::DBSnapshot',
      id: 'kura-r-half-copied',
      account: '210987654321',
      region: 'ap-northeast-1',
      cleanup:
        'aws rds delete-db-snapshot --db-snapshot-identifier kura-r-half-copied --region ap-northeast-1',
    };
    const failingStep = async () => ({
      ...databaseRestoreStep,
      restore: async () => {
        throw new RestoreFailedError('database: copy into the isolated account failed half-way', [leftover]);
      },
    });
    const failingItem = async (input: unknown, d: Deps) =>
      restoreItem(input as never, d, () => new Date(), { ...awsDatabaseItemPorts(d), step: failingStep });
    // Act: six minutes later, as RDS's newest restorable point trails by its 5-minute log uploads.
    clock.set(new Date(Date.now() + 6 * 60_000));
    const out = await runRestoreLocally(
      {
        reason: 'rehearsal with a failure',
        database: { instance: db, snapshot: new Date(created + 1000).toISOString() },
      },
      { deps, taskOverrides: { RestoreDatabaseItem: failingItem } },
    );
    // Assess
    expect(out.status).toBe('FAILED');
    expect(out.visited).toContain('ReportFailure');
    expect(out.visited).not.toContain('Servers');
    const store = new S3RestoreStore(clients, deps.policy.vault.bucket);
    let report: RestoreReport | undefined;
    for (const id of await store.list()) {
      const r = await store.get<RestoreReport>(id, 'report.json');
      if (r?.reason === 'rehearsal with a failure') report = r;
    }
    expect(report?.status).toBe('FAILED');
    expect(report?.items[0]?.status).toBe('failed');
    expect(report?.items[0]?.error).toContain('failed half-way');
    const temp = `kura-pitr-${report?.requestId.replace(/^rq-/, '')}-${db}`;
    expect(report?.exists.map((e) => `${e.type} ${e.id}`)).toEqual(
      expect.arrayContaining([
        `AWS::RDS::DBInstance ${temp}`,
        `AWS::RDS::DBSnapshot ${temp}`,
        `AWS::RDS::DBSnapshot ${leftover.id}`,
      ]),
    );
    expect(report?.cleanup).toContain(leftover.cleanup);
    expect(report?.cleanup).toContain(
      `aws rds delete-db-instance --db-instance-identifier ${temp} --skip-final-snapshot --region ap-northeast-1`,
    );
    // What the report says exists does exist.
    const rds = clients.get(RDSClient);
    expect(
      (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: temp }))).DBInstances,
    ).toHaveLength(1);
    const md = await store.get<string>(report?.requestId ?? '', 'report.md');
    expect(md).toContain('## Clean up');
    expect(md).toContain('resume');
  });

  it('waits for a second person before creating anything when the request asks for approval', async () => {
    // Prepare
    const db = await databaseWithSnapshots(deps, [hoursAgo(2)]);
    const store = new S3RestoreStore(clients, deps.policy.vault.bucket);
    let seenBeforeApproval: string[] | undefined;
    // Act: the run pauses at WaitForApproval; another engineer approves (as `kura restore approve` does).
    clock.set(new Date()); // the restore runs now, after the backups
    const out = await runRestoreLocally(
      { reason: 'four eyes please', approval: true, database: { instance: db, snapshot: 'latest' } },
      {
        deps,
        approvalPollMs: 50,
        onApprovalPending: (id) => {
          void (async () => {
            seenBeforeApproval = (await accountView(isolated)).dbInstances.filter((d) =>
              d.includes(id.replace(/^rq-/, '')),
            );
            const pending = await store.get<{ status: string; requestedAt: string }>(id, 'approval.json');
            await store.put(id, 'approval.json', {
              ...pending,
              status: 'approved',
              by: 'second-engineer',
              decidedAt: new Date().toISOString(),
            });
          })();
        },
      },
    );
    // Assess
    expect(out.status, out.cause).toBe('SUCCEEDED');
    expect(out.visited.indexOf('WaitForApproval')).toBeLessThan(out.visited.indexOf('Database'));
    expect(seenBeforeApproval).toEqual([]);
  });
});
