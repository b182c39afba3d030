// Integration (gaps cannot hide): the first recovery point of each source is
// recorded in the vault by the backup run itself; deleting the oldest
// snapshots (in both regions) then shows as red gaps with their dates, and
// `--check` fails, instead of quietly lowering what is expected. A database
// whose point-in-time window is shorter than the policy fails the check too.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { run as rdsSnapshot } from '../../functions/rds-snapshot/handler.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { S3FirstPointLedger } from '../../shared/aws/first-points.ts';
import { ensureVault } from '../../local/vault.ts';
import { firstPointKey } from '../../shared/domain/first-points.ts';
import type { ComplianceReport } from '../../shared/domain/reports/compliance.ts';
import type { InventoryReport } from '../../shared/domain/reports/inventory.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { clock, emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { type Ran, runKura } from '../support/kura-cli.ts';
import { createDatabase } from '../support/rds.ts';

// rds-snapshot fires at 04:00 Asia/Tokyo = 19:00 UTC the day before.
const DAYS = [
  '2026-11-14',
  '2026-11-15',
  '2026-11-16',
  '2026-11-17',
  '2026-11-18',
  '2026-11-19',
  '2026-11-20',
];
const AT = '2026-11-21T00:00:00.000Z';
const DR = 'ap-southeast-1';

let clients: Clients;
let deps: Deps;
let policyFile: string;
let db: string;
let shortDb: string;

const snapshotIds = async (region?: string) =>
  (
    (
      await clients
        .get(RDSClient, region)
        .send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: db, SnapshotType: 'manual' }))
    ).DBSnapshots ?? []
  )
    .map((s) => s.DBSnapshotIdentifier ?? '')
    .sort();

beforeAll(async () => {
  clients = emulatorClients();
  const sfx = uniqueSuffix();
  const policy: Policy = testPolicy((p) => {
    p.vault.bucket = `kura-vault-gaps-${sfx}`;
    p.content = [];
    p.logs = undefined;
    p.images = undefined;
    if (p.database) {
      p.database.copy = { region: DR };
      p.database.shareWithIsolatedAccount = false;
    }
  });
  deps = { policy, clients };
  await ensureVault(clients, policy);
  db = `gaps-${sfx}`;
  shortDb = `short-${sfx}`;
  const tags = { [policy.selector.tagKey]: policy.selector.tagValue };
  await createDatabase(clients, db, tags);
  await createDatabase(clients, shortDb, tags, { BackupRetentionPeriod: 3 });
  // Each run at its scheduled time on the file's clock: AWS finishes a snapshot after its run.
  for (const day of DAYS) await runAt(new Date(`${day}T19:00:00Z`));
  policyFile = join(tmpdir(), `kura-gaps-${sfx}.yml`);
  writeFileSync(policyFile, stringify(policy));
});

async function runAt(time: Date): Promise<RunResult> {
  clock.set(time);
  return rdsSnapshot(syntheticScheduledEvent(time), deps);
}

/** A report as a person reads it at AT, hours after the last run (its snapshot and copies finished). */
const kura = (...args: string[]) => {
  clock.set(new Date(AT));
  return runKura(['--policy', policyFile, 'report', ...args]);
};
const inventoryArgs = ['inventory', '--at', AT, '--days', '10'];
const complianceArgs = ['compliance', '--from', '2026-11-01', '--to', AT];
const controlOf = (rep: ComplianceReport, id: string) => rep.controls.find((c) => c.id === id);

/** The reports of one state of the estate, each run once through the real command (they take seconds). */
function reports(state: string) {
  const runs = new Map<string, Promise<Ran>>();
  const once = (key: string, args: string[]) => {
    if (!runs.has(`${state} ${key}`)) runs.set(`${state} ${key}`, kura(...args));
    return runs.get(`${state} ${key}`) as Promise<Ran>;
  };
  return {
    inventory: () => once('inventory', [...inventoryArgs, '--format', 'json', '--check']),
    inventoryTable: () => once('inventory table', inventoryArgs),
    compliance: () => once('compliance', [...complianceArgs, '--format', 'json', '--check']),
    complianceCsv: () => once('compliance csv', [...complianceArgs, '--format', 'csv']),
  };
}
const intact = reports('intact');
const deleted = reports('oldest deleted');

describe('first recovery point of each source, kept in the vault', () => {
  it('is written by the first backup run and not moved by later runs or a re-run', async () => {
    // Act: the same day's run again (a replayed event).
    const again = await runAt(new Date(`${DAYS[6]}T19:00:00Z`));
    const first = (await new S3FirstPointLedger(clients, deps.policy).readAll()).get(`database ${db}`);
    // Assess
    expect(again.firstPointsRecorded).toBeUndefined();
    expect(first).toMatchObject({
      id: `kura-${db}-202611141900`,
      time: '2026-11-14T19:00:00.000Z',
      recordedBy: 'rds-snapshot',
      versions: 1,
      deleted: false,
    });
  });

  it('still answers after the record is deleted, and a later record does not replace the first', async () => {
    // Prepare: a second source whose record is deleted, then written again by a later run.
    const ledger = new S3FirstPointLedger(clients, deps.policy);
    const point = {
      class: 'database' as const,
      source: `victim-${db}`,
      id: 'kura-v-1',
      time: '2026-11-01T19:00:00.000Z',
    };
    await ledger.note(point, 'test', new Date('2026-11-01T19:05:00Z'));
    // Act
    await clients.get(S3Client).send(
      new DeleteObjectCommand({
        Bucket: deps.policy.vault.bucket,
        Key: firstPointKey('database', point.source),
      }),
    );
    const afterDelete = (await ledger.readAll()).get(`database ${point.source}`);
    await ledger.note({ ...point, id: 'kura-v-2', time: '2026-11-20T19:00:00.000Z' }, 'test', new Date());
    const afterRewrite = (await ledger.readAll()).get(`database ${point.source}`);
    // Assess
    expect(afterDelete).toMatchObject({ id: 'kura-v-1', deleted: true, versions: 1 });
    expect(afterRewrite).toMatchObject({ id: 'kura-v-1', time: point.time, versions: 2, deleted: false });
  });
});

describe('deleted oldest points are red gaps with their dates', () => {
  it('passes --check while every point is there, with expected points counted from the vault record', async () => {
    const r = await intact.inventory();
    const rep = JSON.parse(r.stdout) as InventoryReport;
    const s = rep.series.find((x) => x.source === db);
    expect(s).toMatchObject({ expected: 7, present: 7, gaps: [] });
    expect(s?.countedFrom).toEqual({ time: '2026-11-14T19:00:00.000Z', basis: 'vault record' });
    // Only the short point-in-time window of the other database fails the check.
    expect(r.code, r.stderr).toBe(1);
    expect(rep.series.find((x) => x.source === shortDb)?.gaps).toEqual([]);
    const c = JSON.parse((await intact.compliance()).stdout) as ComplianceReport;
    expect(controlOf(c, `database/${db}/schedule`)?.status).toBe('PASS');
    expect(controlOf(c, `database/${db}/retention`)?.status).toBe('PASS');
    expect(controlOf(c, `database/${db}/dr-copy`)?.status).toBe('PASS');
  });

  it('fails --check naming the dates once the two oldest snapshots are deleted in both regions', async () => {
    // Prepare: what an attacker or a mistake does.
    for (const region of [undefined, DR])
      for (const id of (await snapshotIds(region)).slice(0, 2))
        await clients.get(RDSClient, region).send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }));
    expect(await snapshotIds()).toHaveLength(5);
    // Act
    const r = await deleted.inventory();
    const table = await deleted.inventoryTable();
    // Assess
    expect(r.code, r.stderr).toBe(1);
    const s = (JSON.parse(r.stdout) as InventoryReport).series.find((x) => x.source === db);
    expect(s).toMatchObject({ expected: 7, present: 5 });
    expect(s?.gaps).toEqual([
      {
        from: '2026-11-14T19:00:00.000Z',
        to: '2026-11-15T19:00:00.000Z',
        local: '2026-11-15 04:00 Asia/Tokyo .. 2026-11-16 04:00 Asia/Tokyo',
        missed: 2,
      },
    ]);
    expect(s?.cells.filter((c) => c.state === 'missing').map((c) => c.day)).toEqual([
      '2026-11-15',
      '2026-11-16',
    ]);
    expect(table.stdout).toContain(
      `database ${db}: 2026-11-15 04:00 Asia/Tokyo .. 2026-11-16 04:00 Asia/Tokyo (2 runs missed; 2026-11-14T19:00:00.000Z .. 2026-11-15T19:00:00.000Z)`,
    );
  });

  it('fails the compliance schedule and retention controls, naming the dates', async () => {
    // Act
    const r = await deleted.compliance();
    const csv = await deleted.complianceCsv();
    // Assess
    expect(r.code, r.stderr).toBe(1);
    const rep = JSON.parse(r.stdout) as ComplianceReport;
    expect(controlOf(rep, `database/${db}/schedule`)).toMatchObject({
      status: 'FAIL',
      policyKey: 'schedules.rds-snapshot',
      finding:
        '2 run(s) without a recovery point: 2026-11-15 04:00 Asia/Tokyo .. 2026-11-16 04:00 Asia/Tokyo (2 runs missed; 2026-11-14T19:00:00.000Z .. 2026-11-15T19:00:00.000Z)',
    });
    expect(controlOf(rep, `database/${db}/retention`)).toMatchObject({
      status: 'FAIL',
      finding:
        'the oldest point is from 2026-11-17 04:00 Asia/Tokyo (2026-11-16 19:00 UTC); the policy keeps a point from 2026-11-15 04:00 Asia/Tokyo (2026-11-14 19:00 UTC)',
    });
    expect(csv.stdout).toContain(
      `database/${db}/schedule,FAIL,database,${db},schedule met,schedules.rds-snapshot`,
    );
  });
});

describe('a point-in-time window shorter than the policy', () => {
  it('is a DRIFT column and fails --check', async () => {
    const r = await deleted.inventory();
    const table = await deleted.inventoryTable();
    const s = (JSON.parse(r.stdout) as InventoryReport).series.find((x) => x.source === shortDb);
    expect(r.code).toBe(1);
    expect(s?.pitr).toMatchObject({ retentionDays: 3, targetDays: 7 });
    expect(s?.pitr?.drift).toEqual(['automated backup retention is 3 days; the policy needs at least 7']);
    expect(table.stdout).toContain(
      `DRIFT database ${shortDb}: automated backup retention is 3 days; the policy needs at least 7`,
    );
  });

  it('fails the compliance point-in-time control while the other database passes it', async () => {
    const rep = JSON.parse((await deleted.compliance()).stdout) as ComplianceReport;
    expect(controlOf(rep, `database/${shortDb}/point-in-time`)).toMatchObject({
      status: 'FAIL',
      policyKey: 'database.retainDays, database.rpoMinutes',
      finding: 'automated backup retention is 3 days; the policy needs at least 7',
    });
    expect(controlOf(rep, `database/${db}/point-in-time`)?.status).toBe('PASS');
  });
});
