// Test support: a week of backups of every class made by the real handlers
// (database snapshots, server images, content generations, archived and
// bundled logs) on the emulator's clock, for restores of every class at one
// point in time (restore-all-classes, the yearly rehearsal).
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { operatorClients } from '../../local/iam/principals.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { addMonths } from '../../shared/domain/logs/months.ts';
import { localDate } from '../../shared/policy/calendar.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { deleteSource, putSource } from './content.ts';
import { createEstate, launch } from './ec2-fixture.ts';
import { clock, emulatorClients, uniqueSuffix } from './emulator.ts';
import { amiBackup, contentBackup, logArchive, logBundle, rdsSnapshot } from './functions.ts';
import { accessLog } from './logs.ts';
import { databaseWithSnapshots, ISOLATED_ROLE, restorePolicy } from './restore.ts';

const DAY = 86_400_000;
const REGION = 'ap-northeast-1';

export interface World {
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

export const expectOk = (r: RunResult, what: string) => expect(r.ok, `${what}: ${JSON.stringify(r)}`).toBe(true);

export async function world(overrides: (p: Policy) => void = () => {}): Promise<World> {
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
    overrides(p);
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

