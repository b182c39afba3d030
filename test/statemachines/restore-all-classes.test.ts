// The restore state machine, run locally through the same ASL file, against
// moto: a week of backups of every class made by the real handlers (database
// snapshots, server images, content generations, archived and bundled logs),
// then one request that restores all four classes at one point in time in the
// middle of that week, into the isolated account.

import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { amiBackup } from '../support/functions.ts';
import { contentBackup } from '../support/functions.ts';
import { logArchive } from '../support/functions.ts';
import { logBundle } from '../support/functions.ts';
import { rdsSnapshot } from '../support/functions.ts';
import { runRestoreLocally } from '../../local/restore.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { addMonths } from '../../shared/domain/logs/months.ts';
import { localDate } from '../../shared/policy/calendar.ts';
import type { ReportItem, RestoreReport } from '../../shared/restore/plan.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { deleteSource, putSource } from '../support/content.ts';
import { createEstate, launch } from '../support/ec2-fixture.ts';
import { operatorClients } from '../../local/iam/principals.ts';
import { clock, emulatorClients, uniqueSuffix } from '../support/emulator.ts';
import { accessLog, bytesOf, keys } from '../support/logs.ts';
import { databaseWithSnapshots, ISOLATED_ROLE, restorePolicy } from '../support/restore.ts';

const DAY = 86_400_000;
const REGION = 'ap-northeast-1';

interface World {
  clients: Clients;
  isolated: Clients;
  deps: Deps;
  db: string;
  instance: string;
  contentName: string;
  host: string;
  /** Backup times, oldest first: one a day for six days, 13:00 in Tokyo (04:00 UTC). */
  times: Date[];
  /** The content source as it was when each day's generation was taken: key → bytes. */
  sourceByDay: Map<string, Buffer>[];
  /** Every log file dropped: day → { file, body }. */
  logs: Map<string, { file: string; body: string }>;
  /** A month old enough to be bundled by log-bundle (keepMonths 2). */
  bundledMonth: string;
}

let w: World;

const expectOk = (r: RunResult, what: string) => expect(r.ok, `${what}: ${JSON.stringify(r)}`).toBe(true);

async function world(): Promise<World> {
  const clients = emulatorClients();
  const sfx = uniqueSuffix();
  const sourceBucket = `kura-src-all-${sfx}`;
  const landingBucket = `kura-landing-all-${sfx}`;
  const contentName = `site-${sfx}`;
  const host = `web-${sfx}`;
  const policy = await restorePolicy(clients, (p) => {
    p.content = [{ name: contentName, source: `s3://${sourceBucket}/site/`, generations: 7 }];
    if (p.logs) p.logs.landing = `s3://${landingBucket}/incoming/`;
    if (p.images) p.images.waitSeconds = 0;
  });
  const deps: Deps = { policy, clients };
  const s3 = clients.get(S3Client);
  for (const Bucket of [sourceBucket, landingBucket])
    await s3.send(
      new CreateBucketCommand({ Bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
  const isolated = await operatorClients(ISOLATED_ROLE.split(':')[4] ?? '', clients);
  const db = await databaseWithSnapshots(deps, []);
  const instance = await launch(clients, await createEstate(clients), { policy, name: `app-${sfx}` });

  const today = new Date();
  const base = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 4, 0, 0);
  const times = [6, 5, 4, 3, 2, 1].map((n) => new Date(base - n * DAY));

  // Logs of a month long past: archived, then bundled by the monthly run.
  const bundledMonth = addMonths(localDate(today, policy.timezone).slice(0, 7), -3);
  const logs = new Map<string, { file: string; body: string }>();
  const dropLog = async (day: string, seed: number) => {
    const file = `access.log-${day.replaceAll('-', '')}`;
    const body = accessLog(host, day, 40 + seed, seed);
    await s3.send(
      new PutObjectCommand({ Bucket: landingBucket, Key: `incoming/${host}/access/${file}`, Body: body }),
    );
    logs.set(day, { file, body });
  };
  for (const [i, day] of [`${bundledMonth}-10`, `${bundledMonth}-11`].entries()) await dropLog(day, 100 + i);
  clock.set(new Date(Date.parse(`${bundledMonth}-12T04:00:00Z`)));
  expectOk(
    await logArchive(syntheticScheduledEvent(new Date(Date.parse(`${bundledMonth}-12T04:00:00Z`))), deps),
    'log-archive (old month)',
  );
  clock.set(today);
  expectOk(await logBundle(syntheticScheduledEvent(today), deps), 'log-bundle');

  // Six days of backups; the content source changes every day.
  const current = new Map<string, Buffer>();
  const put = async (key: string, body: Buffer) => {
    await putSource(clients, { policy, sourceBucket, prefix: 'site/', name: contentName }, key, {
      body,
      contentType: 'application/octet-stream',
    });
    current.set(key, body);
  };
  const del = async (key: string) => {
    await deleteSource(clients, { policy, sourceBucket, prefix: 'site/', name: contentName }, key);
    current.delete(key);
  };
  const sourceByDay: Map<string, Buffer>[] = [];
  for (const [i, t] of times.entries()) {
    const day = localDate(t, policy.timezone);
    await put('index.html', Buffer.from(`<h1>shop, day ${i}</h1>\n`));
    await put(
      `uploads/${day}.bin`,
      Buffer.from(Array.from({ length: 3000 + i * 517 }, (_, k) => (k * 31 + i) % 256)),
    );
    if (i === 2) await del(`uploads/${localDate(times[0] as Date, policy.timezone)}.bin`);
    if (i === 1) await put('static/app.js', Buffer.from(`console.log(${i});\n`));
    if (i === 4) await del('static/app.js');
    await dropLog(day, i);

    // Each day's runs at their scheduled time, on the emulator's clock.
    clock.set(t);
    expectOk(await rdsSnapshot(syntheticScheduledEvent(t), deps), `rds-snapshot ${day}`);
    expectOk(await amiBackup(syntheticScheduledEvent(t), deps), `ami-backup ${day}`);
    const c = (await contentBackup(syntheticScheduledEvent(t), deps)) as RunResult & { complete: boolean };
    expectOk(c, `content-backup ${day}`);
    expect(c.complete).toBe(true);
    clock.set(new Date(t.getTime() + 3600_000));
    expectOk(
      await logArchive(syntheticScheduledEvent(new Date(t.getTime() + 3600_000)), deps),
      `log-archive ${day}`,
    );
    sourceByDay.push(new Map(current));
  }
  return { clients, isolated, deps, db, instance, contentName, host, times, sourceByDay, logs, bundledMonth };
}

beforeAll(async () => {
  w = await world();
}, 300_000);

describe('restore state machine (local), every class at one point in time', () => {
  it('restores database, server, content and logs from the points closest before `at` when a request names them all', async () => {
    // Prepare: `at` falls between the third and the fourth day's backups.
    const chosen = 2;
    const t = w.times[chosen] as Date;
    const at = new Date(t.getTime() + 2 * 3600_000).toISOString();
    const atDay = localDate(t, w.deps.policy.timezone);
    const from = `${w.bundledMonth}-10`;
    const request = {
      reason: 'rehearse: everything as it was mid-week',
      ticket: 'INC-ALL-1',
      at,
      database: { instance: w.db },
      instances: [{ instance: w.instance }],
      content: [{ source: w.contentName }, { source: w.contentName, prefix: 'uploads/' }],
      logs: [{ class: 'access', host: w.host, from }],
    };

    // Act
    clock.set(new Date()); // the restore runs now, after the backups
    const out = await runRestoreLocally(request, { deps: w.deps });

    // Assess: it finished, and every class came from the point closest at or before `at`.
    expect(out.status, out.cause).toBe('SUCCEEDED');
    const { requestId } = out.output as { requestId: string };
    const store = new S3RestoreStore(w.clients, w.deps.policy.vault.bucket);
    const report = await store.get<RestoreReport>(requestId, 'report.json');
    if (!report) throw new Error(`no report under restores/${requestId}/`);
    expect(report.status).toBe('SUCCEEDED');
    expect(report.at).toBe(at);
    const byClass = Object.fromEntries(report.items.map((i) => [i.class, i]));
    expect(report.items.map((i) => i.class).sort()).toEqual([
      'content',
      'content',
      'database',
      'image',
      'logs',
    ]);
    expect(byClass.database?.recoveryPoint.time).toBe(t.toISOString());
    expect(byClass.image?.recoveryPoint.time).toBe(t.toISOString());
    for (const c of report.items.filter((i) => i.class === 'content'))
      expect(c.recoveryPoint).toEqual({ id: atDay, time: t.toISOString() });
    // Logs: the archived day that covers `at` (loose: recent logs are not bundled yet).
    expect(byClass.logs?.recoveryPoint.id).toBe(`logs/access/${w.host}/${atDay}/`);
    expect(Date.parse(byClass.logs?.recoveryPoint.time ?? '')).toBeLessThanOrEqual(Date.parse(at));
    for (const i of report.items) {
      expect(i.status, `${i.class}: ${i.error}`).toBe('done');
      expect(i.recoveryPoint.id).toBeTruthy();
      expect(i.durationSeconds).toEqual(expect.any(Number));
      expect(i.resources.length, i.class).toBeGreaterThan(0);
      for (const r of i.resources) expect(report.cleanup).toContain(r.cleanup);
    }
    expect(report.phases.map((p) => p.phase)).toEqual(['database', 'servers', 'content', 'logs']);
    const md = await store.get<string>(requestId, 'report.md');
    expect(md).toContain('## Clean up');

    // The content: byte for byte the source as it was on the chosen day (all of it, and only uploads/).
    const s3 = w.isolated.get(S3Client);
    const where = (i: ReportItem) => {
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(i.endpoint ?? '');
      if (!m) throw new Error(`${i.key}: endpoint ${i.endpoint}`);
      return { bucket: m[1] as string, prefix: m[2] as string };
    };
    const asOfDay = w.sourceByDay[chosen] as Map<string, Buffer>;
    const [whole, part] = report.items
      .filter((i) => i.class === 'content')
      .sort((a, b) => a.key.length - b.key.length)
      .map(where) as [{ bucket: string; prefix: string }, { bucket: string; prefix: string }];
    const { bucket } = whole;
    expect((await keys(s3, bucket, whole.prefix)).map((k) => k.slice(whole.prefix.length))).toEqual(
      [...asOfDay.keys()].sort(),
    );
    for (const [key, body] of asOfDay)
      expect((await bytesOf(s3, bucket, whole.prefix + key)).equals(body), key).toBe(true);
    expect(part.prefix.endsWith('/uploads/')).toBe(true);
    const base = part.prefix.slice(0, -'uploads/'.length);
    expect((await keys(s3, part.bucket, base)).map((k) => k.slice(base.length))).toEqual(
      [...asOfDay.keys()].filter((k) => k.startsWith('uploads/')).sort(),
    );

    // The logs: every file of [from, day of `at`], loose or bundled, and nothing after.
    const logsPrefix = `kura-restore/logs/${requestId}/access/${w.host}/`;
    expect(byClass.logs?.endpoint).toBe(`s3://${bucket}/${logsPrefix}`);
    const wantDays = [...w.logs.keys()].filter((d) => d >= from && d <= atDay).sort();
    const gotLogs = await keys(s3, bucket, logsPrefix);
    expect(gotLogs).toEqual(wantDays.map((d) => `${logsPrefix}${d}/${w.logs.get(d)?.file}`));
    for (const d of wantDays)
      expect((await bytesOf(s3, bucket, `${logsPrefix}${d}/${w.logs.get(d)?.file}`)).toString()).toBe(
        w.logs.get(d)?.body,
      );
  });
});
