// Retention safety against the emulator with AWS's timing: two weeks of
// failed backups, skewed clocks and a replayed old event never let pruning
// delete the last good generations or anything newer than the run. Database
// (rds-snapshot), images (ami-backup) and content generations (content-backup).
// Runs happen on the file's simulated clock, which only moves forward: a
// replayed or skewed event runs at the current time with an old event time,
// as on AWS. Tests run one after the other (they share the clock).
import { CreateImageCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  AddTagsToResourceCommand,
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clients } from '../../shared/aws/clients.ts';
import { S3RecordStore } from '../../shared/aws/config-records.ts';
import { S3ContentAdapter, type ContentPort } from '../../shared/aws/content.ts';
import { contentBackupPorts, listGenerations } from '../../shared/aws/content-generations.ts';
import { Ec2ImageAdapter } from '../../shared/aws/ec2-images.ts';
import { KmsAdapter } from '../../shared/aws/kms.ts';
import { type DatabasePort, RdsAdapter } from '../../shared/aws/rds.ts';
import { managedTags, TAG, toTagList } from '../../shared/domain/tags.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { type AmiBackupPorts, amiBackup } from '../../shared/usecases/ami-backup.ts';
import { contentBackup } from '../../shared/usecases/content-backup.ts';
import { rdsSnapshot } from '../../shared/usecases/rds-snapshot.ts';
import { contentFixture, putSource } from '../support/content.ts';
import {
  createEstate,
  type Estate,
  imagePolicy,
  imagesOf,
  launch,
  testVault,
} from '../support/ec2-fixture.ts';
import { clock, emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { createDatabase } from '../support/rds.ts';

let clients: Clients;
let rds: RDSClient;

beforeAll(() => {
  clients = emulatorClients();
  rds = clients.get(RDSClient);
});

const DAY = 86_400_000;
const injected = () =>
  Object.assign(new Error('InvalidDBInstanceState: injected'), { name: 'InvalidDBInstanceState' });

// ---------------------------------------------------------------- database

describe('database snapshots (rds-snapshot)', () => {
  const day0 = new Date('2026-09-01T19:00:00Z'); // 04:00 Asia/Tokyo
  const at = (d: number, hours = 0) => new Date(day0.getTime() + d * DAY + hours * 3_600_000);
  const name = (db: string, t: Date) => `kura-${db}-${t.toISOString().replace(/[-:T]/g, '').slice(0, 12)}`;

  function policyFor(): Policy {
    return testPolicy((p) => {
      if (!p.database) throw new Error('reference policy has a database section');
      p.database.copy = undefined;
      p.database.shareWithIsolatedAccount = false;
      p.database.retainDays = 7;
      p.database.minGenerations = 3;
    });
  }

  beforeEach(() => clock.set(day0));

  async function database(policy: Policy): Promise<string> {
    const db = `ret-${uniqueSuffix()}`;
    await createDatabase(clients, db, { [policy.selector.tagKey]: policy.selector.tagValue });
    return db;
  }

  async function snapshotIds(db: string): Promise<string[]> {
    const r = await rds.send(
      new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: db, SnapshotType: 'manual' }),
    );
    return (r.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier ?? '').sort();
  }

  const real = () => new RdsAdapter(clients);
  const ports = (db: DatabasePort = real()) => ({ db, keys: new KmsAdapter(clients) });
  const runAt = (t: Date, policy: Policy, db?: DatabasePort) => {
    clock.advanceTo(t);
    return rdsSnapshot(t, policy, ports(db));
  };

  /** The real adapter, with snapshots of `target` failing (or reported not yet available). */
  function faulty(target: string, mode: 'fail' | 'creating'): DatabasePort {
    const base = real();
    return Object.assign(Object.create(base) as DatabasePort, {
      createSnapshot: async (...args: Parameters<DatabasePort['createSnapshot']>) => {
        if (args[0].id !== target) return base.createSnapshot(...args);
        if (mode === 'fail') throw injected();
        return { ...(await base.createSnapshot(...args)), status: 'creating' };
      },
    });
  }

  it('keeps every good snapshot through 14 days of failed backups, and the newest generations and the validated one after', async () => {
    const policy = policyFor();
    const db = await database(policy);
    for (let d = 0; d < 7; d++) expect((await runAt(at(d), policy)).ok).toBe(true);
    const good = await snapshotIds(db);
    expect(good).toHaveLength(7);
    // The snapshot of day 1 passed a validation: it must outlive retention.
    const validated = name(db, at(1));
    await rds.send(
      new AddTagsToResourceCommand({
        ResourceName: `arn:aws:rds:ap-northeast-1:123456789012:snapshot:${validated}`,
        Tags: [{ Key: TAG.validated, Value: at(2).toISOString() }],
      }),
    );

    // Days 7..20: every snapshot of `db` fails; pruning is due every day (all good ones age past 7 days).
    const failing = faulty(db, 'fail');
    const failures: RunResult[] = [];
    for (let d = 7; d < 21; d++) failures.push(await runAt(at(d), policy, failing));

    expect(failures.map((r) => r.ok)).toEqual(Array(14).fill(false));
    expect(failures.every((r) => r.targets[0]?.error?.message.includes('injected'))).toBe(true);
    expect(failures.flatMap((r) => (r.targets[0]?.pruned as string[] | undefined) ?? [])).toEqual([]);
    expect(await snapshotIds(db)).toEqual(good);

    // Day 21: backups work again; pruning keeps the 3 newest available, the validated one and
    // the new one (still creating: not a generation yet).
    const recovered = await runAt(at(21), policy);
    expect(recovered.ok).toBe(true);
    expect(await snapshotIds(db)).toEqual(
      [name(db, at(1)), name(db, at(4)), name(db, at(5)), name(db, at(6)), name(db, at(21))].sort(),
    );
    // Day 22: the new one counts, the oldest of the three goes; the validated one still stays.
    await runAt(at(22), policy);
    expect(await snapshotIds(db)).toEqual(
      [name(db, at(1)), name(db, at(5)), name(db, at(6)), name(db, at(21)), name(db, at(22))].sort(),
    );
  });

  it('never prunes below the minimum available generations while new snapshots stay creating, however old the others are', async () => {
    const policy = policyFor();
    policy.database = policy.database && { ...policy.database, stuckAfterHours: 1000 };
    const db = await database(policy);
    for (let d = 0; d < 5; d++) await runAt(at(d), policy);
    const before = await snapshotIds(db);
    // From day 20 the snapshots of this database take AWS ten days.
    const slow = emulatorClients('ap-northeast-1', { 'rds.snapshot': 10 * 86_400 });
    const slowPorts = { db: new RdsAdapter(slow), keys: new KmsAdapter(slow) };

    const runs: RunResult[] = [];
    for (let d = 20; d < 25; d++) {
      clock.advanceTo(at(d));
      runs.push(await rdsSnapshot(at(d), policy, slowPorts));
    }

    expect(runs.map((r) => r.ok)).toEqual(Array(5).fill(true));
    // Days 0 and 1 go once (past retention, beyond the 3 newest available); the 3 newest available stay.
    expect(runs.flatMap((r) => (r.targets[0]?.pruned as string[] | undefined) ?? []).sort()).toEqual([
      name(db, at(0)),
      name(db, at(1)),
    ]);
    expect((await snapshotIds(db)).filter((id) => before.includes(id))).toEqual(
      [2, 3, 4].map((d) => name(db, at(d))),
    );
  });

  it('an event hours behind the newest snapshot (skewed clock) prunes nothing newer than its own time', async () => {
    const policy = policyFor();
    const db = await database(policy);
    for (let d = 0; d < 8; d++) await runAt(at(d), policy);
    const before = await snapshotIds(db);
    expect(before).toHaveLength(7);

    const skewed = await runAt(at(7, -5), policy);

    expect(skewed.ok).toBe(true);
    expect(skewed.targets[0]?.pruned).toEqual([]);
    expect((await snapshotIds(db)).filter((id) => before.includes(id))).toEqual(before);
  });

  it('an event days ahead prunes only by its own clock: never the newest generations, never below retention of its time', async () => {
    const policy = policyFor();
    const db = await database(policy);
    for (let d = 0; d < 8; d++) await runAt(at(d), policy);

    const ahead = at(7 + 3);
    const r = await runAt(ahead, policy);

    const pruned = (r.targets[0]?.pruned as string[]) ?? [];
    const remaining = await snapshotIds(db);
    for (const id of pruned) {
      const t = /-(\d{12})$/.exec(id)?.[1] ?? '';
      const time = Date.UTC(
        +t.slice(0, 4),
        +t.slice(4, 6) - 1,
        +t.slice(6, 8),
        +t.slice(8, 10),
        +t.slice(10, 12),
      );
      expect(time).toBeLessThanOrEqual(ahead.getTime() - 7 * DAY);
    }
    for (const d of [5, 6, 7]) expect(remaining).toContain(name(db, at(d)));
    expect(remaining).toContain(name(db, ahead));
  });

  it('a snapshot tagged with a future kura:time is never pruned, and daily pruning still keeps retention', async () => {
    const policy = policyFor();
    const db = await database(policy);
    const future = at(40);
    const bogus = `kura-${db}-future`;
    await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: db,
        DBSnapshotIdentifier: bogus,
        Tags: toTagList(
          managedTags({ backupClass: 'database', source: db, time: future, createdBy: 'rds-snapshot' }),
        ),
      }),
    );

    for (let d = 0; d < 9; d++) await runAt(at(d), policy);

    const remaining = await snapshotIds(db);
    expect(remaining).toContain(bogus);
    // Retention of 7 days still holds for the real ones: days 2..8.
    expect(remaining.filter((id) => id !== bogus)).toEqual(
      [2, 3, 4, 5, 6, 7, 8].map((d) => name(db, at(d))).sort(),
    );
  });

  it('a replayed event from 30 days ago prunes none of the newer snapshots, and its own snapshot displaces none', async () => {
    const policy = policyFor();
    const db = await database(policy);
    for (let d = 32; d < 40; d++) await runAt(at(d), policy);
    const before = await snapshotIds(db);
    expect(before).toHaveLength(7);

    const replay = await runAt(at(9), policy);

    expect(replay.ok).toBe(true);
    expect(replay.targets[0]?.pruned).toEqual([]);
    expect((await snapshotIds(db)).filter((id) => before.includes(id))).toEqual(before);

    // The next scheduled run treats the replayed snapshot as what it is: older than retention.
    const next = await runAt(at(40), policy);
    expect(next.targets[0]?.pruned).toContain(name(db, at(9)));
    expect(await snapshotIds(db)).toEqual([34, 35, 36, 37, 38, 39, 40].map((d) => name(db, at(d))).sort());
  });
});

// ------------------------------------------------------------------ images

describe('machine images (ami-backup)', () => {
  let estate: Estate;
  let bucket: string;
  const week0 = new Date(Date.UTC(2026, 8, 5, 19, 0)); // a Sunday 04:00 Asia/Tokyo
  const at = (days: number) => new Date(week0.getTime() + days * DAY);

  beforeAll(async () => {
    estate = await createEstate(clients);
    bucket = await testVault(clients);
  });

  beforeEach(() => clock.set(week0));

  function ports(policy: Policy, failFor?: string): AmiBackupPorts {
    class Faulty extends Ec2ImageAdapter {
      override async createImage(...args: Parameters<Ec2ImageAdapter['createImage']>) {
        if (args[0] === failFor)
          throw Object.assign(new Error('IncorrectInstanceState: injected'), {
            name: 'IncorrectInstanceState',
          });
        return super.createImage(...args);
      }
    }
    return {
      images: new Faulty(clients),
      keys: new KmsAdapter(clients),
      records: new S3RecordStore(clients, policy.vault.bucket),
      clock: () => clients.timer.now(),
    };
  }
  const runAt = (t: Date, policy: Policy, failFor?: string) => {
    clock.advanceTo(t);
    return amiBackup({ now: t }, policy, ports(policy, failFor));
  };
  const names = async (id: string) => (await imagesOf(clients, id)).map((i) => i.name).sort();

  it('keeps the last good generations through 14 days of failed images, and a replayed old event prunes none of them', async () => {
    const policy = imagePolicy(bucket, (p) => {
      if (p.images) p.images.generations = 3;
    });
    const web = await launch(clients, estate, { policy });
    for (let w = 0; w < 4; w++) expect((await runAt(at(7 * w), policy)).ok).toBe(true);
    const all = await names(web);
    // Three available generations and week 3's image, still pending after its own run.
    expect(all).toHaveLength(4);
    const good = all.slice(1);

    // 14 consecutive days (on-demand style daily runs) where imaging fails.
    const failures: RunResult[] = [];
    for (let d = 22; d < 36; d++) failures.push(await runAt(at(d), policy, web));
    expect(failures.every((r) => !r.ok)).toBe(true);
    expect(failures.flatMap((r) => (r.targets[0]?.pruned as string[] | undefined) ?? [])).toEqual([]);
    expect(await names(web)).toEqual(all);

    // A replayed event from 30 days before the newest image (run now, with its old time).
    const replay = await runAt(at(21 - 30), policy);
    expect(replay.targets[0]?.pruned).not.toEqual(expect.arrayContaining(good));
    expect((await names(web)).filter((n) => good.includes(n))).toEqual(good);
    // Its own image is the oldest: once available, it goes as beyond the generations (with week 0's,
    // which the replay, older than every image, could not prune), never a newer one.
    const next = await runAt(at(36), policy);
    expect((next.targets[0]?.pruned as string[]).length).toBe(2);
    expect((await names(web)).filter((n) => good.includes(n))).toEqual(good);
    expect(
      (await names(web)).some((n) =>
        n.endsWith(
          at(21 - 30)
            .toISOString()
            .replace(/[-:T]/g, '')
            .slice(0, 12),
        ),
      ),
    ).toBe(false);
  });

  it('never prunes an image tagged with a future kura:time, which counts as one of the generations', async () => {
    const policy = imagePolicy(bucket, (p) => {
      if (p.images) p.images.generations = 2;
    });
    const web = await launch(clients, estate, { policy });
    const future = at(400);
    const bogus = `kura-${web}-future`;
    await clients.get(EC2Client).send(
      new CreateImageCommand({
        InstanceId: web,
        Name: bogus,
        NoReboot: true,
        TagSpecifications: [
          {
            ResourceType: 'image',
            Tags: toTagList(
              managedTags({ backupClass: 'image', source: web, time: future, createdBy: 'ami-backup' }),
            ),
          },
        ],
      }),
    );

    for (let w = 0; w < 3; w++) await runAt(at(7 * w), policy);

    const kept = await imagesOf(clients, web);
    expect(kept.map((i) => i.name)).toContain(bogus);
    // The newest available real image is kept too (and this week's, still pending); the older
    // one went as a generation beyond 2.
    expect(kept.map((i) => i.tags[TAG.time]).sort()).toEqual([
      at(7).toISOString(),
      at(14).toISOString(),
      future.toISOString(),
    ]);
  });
});

// ----------------------------------------------------------------- content

describe('content generations (content-backup)', () => {
  const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 20, 30)); // 05:30 Tokyo on Nov 2+n
  const gen = (n: number) => new Date(day(n).getTime() + DAY).toISOString().slice(0, 10);

  it('keeps the last good generations through 14 days of failures, and a replay prunes no newer generation', async () => {
    const f = await contentFixture(clients, 3);
    for (let i = 0; i < 3; i++) await putSource(clients, f, `img-${i}.png`, { body: `image ${i}` });
    const port = new S3ContentAdapter(clients);
    for (let d = 0; d < 5; d++) expect((await contentBackup(day(d), f.policy, contentBackupPorts(port, f.policy))).ok).toBe(true);
    expect(await listGenerations(port, f.policy, f.name)).toEqual([gen(4), gen(3), gen(2)]);

    // 14 days where the source cannot be listed (an injected AccessDenied).
    const failing: ContentPort = Object.assign(Object.create(port) as ContentPort, {
      listPage: async () => {
        throw Object.assign(new Error('AccessDenied: injected'), { name: 'AccessDenied' });
      },
    });
    const failures = [];
    for (let d = 5; d < 19; d++) failures.push(await contentBackup(day(d), f.policy, contentBackupPorts(failing, f.policy)));
    expect(failures.every((r) => !r.ok)).toBe(true);
    expect(await listGenerations(port, f.policy, f.name)).toEqual([gen(4), gen(3), gen(2)]);

    const recovered = await contentBackup(day(19), f.policy, contentBackupPorts(port, f.policy));
    expect(recovered.ok).toBe(true);
    expect(await listGenerations(port, f.policy, f.name)).toEqual([gen(19), gen(4), gen(3)]);

    // A replayed event from 18 days earlier: its generation is the oldest, the newer ones stay.
    const replay = await contentBackup(day(1), f.policy, contentBackupPorts(port, f.policy));
    expect(replay.targets[0]?.pruned ?? []).not.toEqual(expect.arrayContaining([gen(19)]));
    expect(await listGenerations(port, f.policy, f.name)).toEqual([gen(19), gen(4), gen(3)]);
  });
});
