// Issue 16 (content and logs): with two source accounts, each content source
// and the log landing are read, and copied into the vault, as their owning
// account's kura-source role; kura's own role writes the manifests, indexes,
// seals and delete markers. Over a few daily runs the generations are
// complete and restore byte-identical, deletions are recorded, a log range
// restores from the vault; emptying a source account's buckets afterwards
// leaves the vault as it was. Every request is evaluated as AWS would,
// cross-account: the role's own policy and the vault's bucket and key policies.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFunction, operatorClients } from '../../local/iam/principals.ts';
import { ensureVault } from '../../local/vault.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { listGenerations, vaultContent } from '../../shared/aws/content-generations.ts';
import { LocalDirSink } from '../../shared/aws/log-sinks.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { sealedLogStore } from '../../shared/aws/seals.ts';
import { vaultLayout } from '../../shared/domain/content.ts';
import { parsePolicy } from '../../shared/policy/parse.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { resolveGeneration, restoreGeneration } from '../../shared/restore/content-generation.ts';
import { executeLogRestore, planLogRestore } from '../../shared/restore/log-files.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { type ObjectSnapshot, snapshotObject } from '../support/content.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { contentBackup, logArchive } from '../support/functions.ts';
import type { RequestRecord } from '../../local/iam/front.ts';
import { expectRefused, requestsOf } from '../support/iam.ts';
import { accessLog } from '../support/logs.ts';
import { SOURCE_A, SOURCE_B, withTwoSources } from '../support/source-accounts.ts';

const REGION = 'ap-northeast-1';
/** 05:30 Tokyo on November 2+n (content); the logs of the day before are rotated by then. */
const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 20, 30));
const logDay = (n: number) => `2026-11-${String(1 + n).padStart(2, '0')}`;
const backup = emulatorClients();
const vault = new S3ContentAdapter(backup);
const s = uniqueSuffix();
const bucketA = `kura-src-a-${s}`;
const bucketB = `kura-src-b-${s}`;
const landing = `kura-landing-b-${s}`;
const images = `images-${s}`;
const media = `media-${s}`;
const host = `web-${s}`;
const ROLE_A = `kura-source (${SOURCE_A})`;
const ROLE_B = `kura-source (${SOURCE_B})`;
let a: Clients;
let b: Clients;
let policy: Policy;

const put = (c: Clients, bucket: string, key: string, body: string) =>
  c.get(S3Client).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Tagging: 'app=shop' }));
const remove = (c: Clients, bucket: string, key: string) =>
  c.get(S3Client).send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
const listed = async (c: Clients, bucket: string, prefix = '') =>
  ((await c.get(S3Client).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? [])
    .map((o) => o.Key ?? '')
    .sort();

/** A source as its account's administrator sees it on that day: key → body, type, metadata, tags. */
async function state(c: Clients, bucket: string): Promise<Map<string, ObjectSnapshot>> {
  const out = new Map<string, ObjectSnapshot>();
  for (const k of await listed(c, bucket, 'img/')) out.set(k.slice(4), await snapshotObject(c, bucket, k));
  return out;
}

async function createBucket(c: Clients, bucket: string) {
  await c
    .get(S3Client)
    .send(
      new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
}

/** Every version and delete marker of the vault's content and loose logs of this test. */
async function vaultVersions(): Promise<string[]> {
  const out: string[] = [];
  for (const prefix of [
    vaultLayout.objectsPrefix(images),
    vaultLayout.objectsPrefix(media),
    `logs/access/${host}/`,
  ]) {
    const v = await backup
      .get(S3Client)
      .send(new ListObjectVersionsCommand({ Bucket: policy.vault.bucket, Prefix: prefix }));
    out.push(
      ...(v.Versions ?? []).map((x) => `${x.Key}@${x.VersionId}`),
      ...(v.DeleteMarkers ?? []).map((x) => `${x.Key}@${x.VersionId} (marker)`),
    );
  }
  return out.sort();
}

const writers = (requests: RequestRecord[], operation: string) =>
  [...new Set(requests.filter((r) => r.operation === operation && !r.denied).map((r) => r.principal))].sort();

/** The content sources' states after each day's changes, and each day's run results. */
const states: { a: Map<string, ObjectSnapshot>; b: Map<string, ObjectSnapshot> }[] = [];
const runs: { content: RunResult; logs: RunResult; requests: RequestRecord[] }[] = [];
const logBodies = new Map<string, string>();

beforeAll(async () => {
  a = await operatorClients(SOURCE_A, backup, REGION);
  b = await operatorClients(SOURCE_B, backup, REGION);
  policy = parsePolicy(
    withTwoSources(
      testPolicy((p) => {
        p.vault.bucket = `kura-vault-src-${s}`;
        p.vault.kmsKeyAlias = `alias/kura-vault-src-${s}`;
        p.content = [
          { name: images, source: `s3://${bucketA}/img/`, generations: 7 },
          { name: media, source: `s3://${bucketB}/img/`, generations: 7 },
        ];
        if (p.logs) p.logs.landing = `s3://${landing}/incoming/`;
      }),
      `t-${s}`,
    ),
    'two-sources',
  );
  await ensureVault(backup, policy);
  await createBucket(a, bucketA);
  await createBucket(b, bucketB);
  await createBucket(b, landing);
  // Three days: edits, additions and deletions in both sources; one rotated log a day in the landing.
  for (let d = 0; d < 3; d++) {
    if (d === 0)
      for (let i = 0; i < 4; i++) {
        await put(a, bucketA, `img/${i}.png`, `a${i} day0`);
        await put(b, bucketB, `img/${i}.png`, `b${i} day0`);
      }
    else {
      // Day 1: A edits 1.png and deletes 3.png, B adds one; day 2: A edits 2.png and
      // deletes 0.png, B adds one and deletes 0.png.
      await put(a, bucketA, `img/${d}.png`, `a${d} edited on day ${d}`);
      await remove(a, bucketA, d === 1 ? 'img/3.png' : 'img/0.png');
      await put(b, bucketB, `img/new-${d}.png`, `b added on day ${d}`);
      if (d === 2) await remove(b, bucketB, 'img/0.png');
    }
    const log = accessLog(host, logDay(d), 40 + d, d);
    const file = `access.log-${logDay(d).replaceAll('-', '')}`;
    logBodies.set(file, log);
    await put(b, landing, `incoming/${host}/access/${file}`, log);
    states.push({ a: await state(a, bucketA), b: await state(b, bucketB) });
    const { result, requests } = await requestsOf(async () => ({
      content: (await contentBackup(syntheticScheduledEvent(day(d)), {
        policy,
        clients: backup,
      })) as RunResult,
      logs: await logArchive(syntheticScheduledEvent(day(d)), { policy, clients: backup }),
    }));
    runs.push({ ...result, requests });
  }
}, 600_000);

describe('content and logs from two source accounts', () => {
  it('completes a generation of each source every day, through its own account role, with deletions recorded', async () => {
    // Assess: every run ok, one generation per day and source.
    for (const r of runs) {
      expect(r.content.targets.map((t) => [t.target, t.status, t.complete])).toEqual([
        [images, 'ok', true],
        [media, 'ok', true],
      ]);
      expect(r.logs.ok, JSON.stringify(r.logs).slice(0, 3000)).toBe(true);
    }
    expect(await listGenerations(vault, policy, images)).toEqual(['2026-11-04', '2026-11-03', '2026-11-02']);
    expect(await listGenerations(vault, policy, media)).toEqual(['2026-11-04', '2026-11-03', '2026-11-02']);
    const counts = (n: number, name: string) => {
      const t = runs[n]?.content.targets.find((x) => x.target === name);
      return { copied: t?.copied, deleted: t?.deleted };
    };
    expect(counts(0, images)).toEqual({ copied: 4, deleted: 0 });
    expect(counts(1, images)).toEqual({ copied: 1, deleted: 1 });
    expect(counts(2, media)).toEqual({ copied: 1, deleted: 1 });
    // Who did what: each source's copies by its owning account's role; the vault's
    // manifests, indexes, seals and delete markers by kura's own.
    const all = runs.flatMap((r) => r.requests);
    const copies = all.filter((r) => r.operation === 's3:CopyObject' && !r.denied);
    const copiedFrom = (label: string) =>
      [...new Set(copies.filter((r) => r.principal === label).flatMap((r) => r.needs.map((n) => n.resource)))]
        .filter((x) => x.startsWith('arn:aws:s3:::') && !x.includes(policy.vault.bucket))
        .map((x) => x.slice(13).split('/')[0])
        .filter((x, i, xs) => xs.indexOf(x) === i)
        .sort();
    expect(copiedFrom(ROLE_A)).toEqual([bucketA]);
    expect(copiedFrom(ROLE_B)).toEqual([bucketB, landing].sort());
    expect(writers(all, 's3:CopyObject')).toEqual([ROLE_A, ROLE_B]);
    const putters = writers(all, 's3:PutObject');
    expect(putters).toContain('ContentBackupRole');
    expect(putters.filter((p) => p.startsWith('kura-source'))).toEqual([]);
    expect(writers(all, 's3:DeleteObject')).toEqual(['ContentBackupRole', ROLE_B]);
    // No request of kura's own roles read a source bucket.
    const own = all.filter((r) => !r.principal.startsWith('kura-source'));
    const touched = own.flatMap((r) => r.needs.map((n) => n.resource));
    for (const bucket of [bucketA, bucketB, landing])
      expect(touched.filter((x) => x.startsWith(`arn:aws:s3:::${bucket}`))).toEqual([]);
  });

  it('locks every copy the source roles wrote, in the vault mode, until its class ends', async () => {
    const s3 = backup.get(S3Client);
    const keys = [
      vaultLayout.objectKey(images, '1.png'),
      vaultLayout.objectKey(media, 'new-2.png'),
      `logs/access/${host}/${logDay(0)}/access.log-${logDay(0).replaceAll('-', '')}`,
    ];
    for (const key of keys) {
      const h = await s3.send(new HeadObjectCommand({ Bucket: policy.vault.bucket, Key: key }));
      expect(h.ObjectLockMode, key).toBe(policy.vault.objectLock.mode);
      expect(h.ObjectLockRetainUntilDate?.getTime(), key).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    }
  });

  it("refuses kura's own role a source bucket: on AWS the source account's bucket does not admit it", async () => {
    const own = (await asFunction('content-backup', { policy, clients: backup })).clients;
    await expectRefused(() =>
      own.get(S3Client).send(new ListObjectsV2Command({ Bucket: bucketA, Prefix: 'img/' })),
    );
  });

  it('restores each day of each source byte-identical, and a log range, after the source account is emptied', async () => {
    // Prepare: the source accounts' administrators empty the content buckets and the landing.
    const before = await vaultVersions();
    for (const [c, bucket] of [
      [a, bucketA],
      [b, bucketB],
      [b, landing],
    ] as const)
      for (const k of await listed(c, bucket)) await remove(c, bucket, k);
    const target = `kura-restore-src-${s}`;
    await createBucket(backup, target);

    // Act: every generation of both sources, and the three days of logs.
    const restored: Record<string, Map<string, ObjectSnapshot>> = {};
    for (const [name, which] of [
      [images, 'a'],
      [media, 'b'],
    ] as const)
      for (let d = 0; d < 3; d++) {
        const generation = await resolveGeneration(
          vaultContent(vault, policy),
          policy,
          name,
          `2026-11-0${2 + d}`,
        );
        const to = { bucket: target, prefix: `${name}/${generation}/` };
        await restoreGeneration(vaultContent(vault, policy), vault, policy, { source: name, generation, to });
        const got = new Map<string, ObjectSnapshot>();
        for (const k of await listed(backup, target, to.prefix))
          got.set(k.slice(to.prefix.length), await snapshotObject(backup, target, k));
        restored[`${which}/${d}`] = got;
      }
    const store = new S3LogStore(backup);
    const dir = mkdtempSync(join(tmpdir(), 'kura-src-logs-'));
    const plan = await planLogRestore(policy, sealedLogStore(store, policy.vault.bucket), {
      logClass: 'access',
      host,
      from: logDay(0),
      to: logDay(2),
    });
    await executeLogRestore(policy, store, plan, new LocalDirSink(dir));

    // Assess: the vault is as it was; every day of each source comes back as it was that day.
    expect(await vaultVersions()).toEqual(before);
    expect(await listed(b, landing)).toEqual([]);
    for (let d = 0; d < 3; d++) {
      const want = states[d];
      for (const which of ['a', 'b'] as const) {
        const got = restored[`${which}/${d}`];
        expect([...(got?.keys() ?? [])].sort(), `${which} day ${d}`).toEqual(
          [...(want?.[which].keys() ?? [])].sort(),
        );
        for (const [k, snap] of want?.[which] ?? [])
          expect(got?.get(k), `${which} day ${d} ${k}`).toEqual(snap);
      }
    }
    for (const [file, body] of logBodies) {
      const d = `${file.slice(11, 15)}-${file.slice(15, 17)}-${file.slice(17, 19)}`;
      expect(readFileSync(join(dir, 'access', host, d, file), 'utf8'), file).toBe(body);
    }
  });
});
