// Integration (content class, sharded): with several shards forced, a
// generation is shard manifests plus an index written last; the plan is
// carried to the next day, each shard merges against the same shard of the
// previous generation, a generation written as one manifest (before sharding)
// is read the same way, an overgrown shard is split, and a small source keeps
// the request count of a single loop.
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { type ContentPort, S3ContentAdapter } from '../../shared/aws/content.ts';
import {
  contentBackupPorts,
  listGenerations,
  readIndex,
  readManifest,
} from '../../shared/aws/content-generations.ts';
import { encodeManifest, vaultLayout } from '../../shared/domain/content.ts';
import {
  contentBackup,
  finishContentBackup,
  planContentBackup,
  runContentShard,
} from '../../shared/usecases/content-backup.ts';
import { restoreGeneration, verifyGeneration } from '../../shared/restore/content-generation.ts';
import {
  type ContentFixture,
  contentFixture,
  deleteSource,
  putSource,
  counting,
} from '../support/content.ts';
import { emulatorClients } from '../support/emulator.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';

const clients = emulatorClients();
const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 20, 30)); // 05:30 Tokyo on Nov 2+n
const key = (i: number) => `img-${String(i).padStart(3, '0')}.png`;

async function seed(f: ContentFixture, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await putSource(clients, f, key(i), { body: `image ${i} v1` });
}

describe('content backup, sharded', () => {
  it('writes shard manifests and an index last, and shards the next day alike, copying only what changed', async () => {
    // Prepare: 10 objects, 3 keys per shard: 4 shards.
    const f = await contentFixture(clients);
    await seed(f, 10);
    const port = new S3ContentAdapter(clients);
    const opts = { shardKeys: 3, chunkKeys: 2, concurrency: 2 };
    const first = await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy), opts);
    await putSource(clients, f, key(4), { body: 'image 4 v2' });
    await deleteSource(clients, f, key(1));
    await putSource(clients, f, 'img-007b.png', { body: 'new' });

    // Act
    const second = await contentBackup(day(1), f.policy, contentBackupPorts(port, f.policy), opts);

    // Assess
    expect(first.targets[0]).toMatchObject({ status: 'ok', complete: true, copied: 10, shards: 4 });
    expect(second.targets[0]).toMatchObject({
      status: 'ok',
      complete: true,
      copied: 2,
      unchanged: 8,
      deleted: 1,
      shards: 4,
      objects: 10,
    });
    const [i1, i2] = await Promise.all([
      readIndex(port, f.policy, f.name, '2026-11-02'),
      readIndex(port, f.policy, f.name, '2026-11-03'),
    ]);
    expect(i1?.boundaries).toEqual([key(2), key(5), key(8)]);
    expect(i2?.boundaries).toEqual(i1?.boundaries);
    expect(i2?.shards.map((s) => s.objects)).toEqual([2, 3, 4, 1]);
    expect(i2?.shards[0]?.key).toBe(vaultLayout.shardKey(f.policy, f.name, '2026-11-03', 0));
    const m2 = await readManifest(port, f.policy, f.name, '2026-11-03');
    expect(m2?.map((e) => e.key)).toEqual(
      [0, 2, 3, 4, 5, 6, 7, -1, 8, 9].map((i) => (i < 0 ? 'img-007b.png' : key(i))),
    );
    const m1 = await readManifest(port, f.policy, f.name, '2026-11-02');
    expect(m2?.find((e) => e.key === key(0))).toEqual(m1?.find((e) => e.key === key(0)));
    expect(m2?.find((e) => e.key === key(4))?.versionId).not.toBe(
      m1?.find((e) => e.key === key(4))?.versionId,
    );
    expect(await listGenerations(port, f.policy, f.name)).toEqual(['2026-11-03', '2026-11-02']);
    expect(
      await verifyGeneration(vaultContent(port, f.policy), f.policy, {
        source: f.name,
        generation: '2026-11-03',
      }),
    ).toMatchObject({
      ok: true,
      checked: 10,
    });
  });

  it('runs plan, each shard and finish as separate steps, with no index until the last shard is done', async () => {
    // Prepare
    const f = await contentFixture(clients);
    await seed(f, 7);
    const port = new S3ContentAdapter(clients);
    const opts = { shardKeys: 2 };
    const planned = await planContentBackup(day(0), f.policy, contentBackupPorts(port, f.policy), opts);
    expect(planned).toMatchObject({ ok: true, complete: true });
    expect(planned.items).toEqual([0, 1, 2, 3].map((shard) => ({ source: f.name, shard })));

    // Act: all shards but the last, then finish (refused), then the last and finish again.
    for (const item of planned.items.slice(0, 3))
      await runContentShard(day(0), f.policy, contentBackupPorts(port, f.policy), item, opts);
    const early = await finishContentBackup(day(0), f.policy, contentBackupPorts(port, f.policy), opts);
    const last = await runContentShard(
      day(0),
      f.policy,
      contentBackupPorts(port, f.policy),
      planned.items[3] as never,
      opts,
    );
    const finished = await finishContentBackup(day(0), f.policy, contentBackupPorts(port, f.policy), opts);

    // Assess
    expect(early.ok).toBe(false);
    expect(early.targets[0]?.error?.message).toMatch(/shard 3 of 4 is not complete; not writing the index/);
    expect(last).toMatchObject({ ok: true, complete: true });
    expect(finished.targets[0]).toMatchObject({ status: 'ok', complete: true, objects: 7, shards: 4 });
    expect((await readManifest(port, f.policy, f.name, '2026-11-02'))?.length).toBe(7);
  });

  it('continues from a generation written as one manifest, and splits a shard that outgrew the plan', async () => {
    // Prepare: day 0 as kura wrote it before sharding: a single manifest of 6 objects.
    const f = await contentFixture(clients);
    await seed(f, 6);
    const port = new S3ContentAdapter(clients);
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy), { shardKeys: 100 });
    const entries = await readManifest(port, f.policy, f.name, '2026-11-02');
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await clients.get(S3Client).send(
      new DeleteObjectCommand({
        Bucket: f.policy.vault.bucket,
        Key: vaultLayout.indexKey(f.policy, f.name, '2026-11-02'),
      }),
    );
    await clients.get(S3Client).send(
      new PutObjectCommand({
        Bucket: f.policy.vault.bucket,
        Key: vaultLayout.manifestKey(f.policy, f.name, '2026-11-02'),
        Body: encodeManifest(entries ?? []),
      }),
    );

    // Act: day 1 plans 3 shards from that manifest; day 2 grows the last shard to 7 keys, past 2 x 2: day 3 splits it in 4.
    const d1 = await contentBackup(day(1), f.policy, contentBackupPorts(port, f.policy), { shardKeys: 2 });
    for (let i = 10; i < 15; i++) await putSource(clients, f, key(i), { body: `more ${i}` });
    const d2 = await contentBackup(day(2), f.policy, contentBackupPorts(port, f.policy), { shardKeys: 2 });
    const d3 = await contentBackup(day(3), f.policy, contentBackupPorts(port, f.policy), { shardKeys: 2 });

    // Assess
    expect(d1.targets[0]).toMatchObject({ complete: true, copied: 0, unchanged: 6, shards: 3 });
    expect((await readIndex(port, f.policy, f.name, '2026-11-03'))?.boundaries).toEqual([key(1), key(3)]);
    expect(d2.targets[0]).toMatchObject({ complete: true, copied: 5, unchanged: 6, shards: 3 });
    expect(d3.targets[0]).toMatchObject({ complete: true, copied: 0, unchanged: 11, shards: 6 });
    expect((await readIndex(port, f.policy, f.name, '2026-11-05'))?.boundaries).toEqual([
      key(1),
      key(3),
      key(5),
      key(11),
      key(13),
    ]);
    expect((await readManifest(port, f.policy, f.name, '2026-11-05'))?.length).toBe(11);
  });

  it('continues a slice that stopped at its budget without looking for crashed copies', async () => {
    // Prepare: 6 objects, 2 keys per chunk, a zero budget: one chunk per call.
    const f = await contentFixture(clients);
    await seed(f, 6);
    const real = new S3ContentAdapter(clients);
    const opts = { chunkKeys: 2, budgetMs: 0 };
    expect((await contentBackup(day(0), f.policy, contentBackupPorts(real, f.policy), opts)).complete).toBe(
      false,
    );
    const { port, calls } = counting(real);

    // Act
    const next = await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy), opts);

    // Assess: one HEAD (is the index there yet?), none per object; two copies, the next chunk.
    expect(next.complete).toBe(false);
    expect(calls.head).toBe(1);
    expect(calls.copy).toBe(2);
  });

  it('refuses a generation whose shard manifest does not match its index', async () => {
    // Prepare
    const f = await contentFixture(clients);
    await seed(f, 4);
    const port = new S3ContentAdapter(clients);
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy), { shardKeys: 2 });
    const index = await readIndex(port, f.policy, f.name, '2026-11-02');
    const shard = index?.shards[1];
    if (!shard) throw new Error('expected two shards');
    const entries = (await readManifest(port, f.policy, f.name, '2026-11-02')) ?? [];

    // Act: the shard manifest replaced by one that lost an object.
    await port.put(f.policy.vault.bucket, shard.key, encodeManifest(entries.slice(2, 3)));

    // Assess
    await expect(readManifest(port, f.policy, f.name, '2026-11-02')).rejects.toMatchObject({
      name: 'SealError',
      key: shard.key,
      problem: 'mismatch',
      expected: Buffer.from(shard.sha256, 'base64').toString('hex'),
    });
  });

  it("costs a small source (one shard) the single loop's requests plus the plan and the previous index", async () => {
    // Prepare: 5 objects, one changed before the daily run.
    const f = await contentFixture(clients);
    await seed(f, 5);
    const real = new S3ContentAdapter(clients);
    await contentBackup(day(0), f.policy, contentBackupPorts(real, f.policy));
    await putSource(clients, f, key(2), { body: 'image 2 v2' });
    const { port, calls } = counting(real);

    // Act
    const r = await contentBackup(day(1), f.policy, contentBackupPorts(port, f.policy));

    // Assess: 1 listing page + 1 copy + manifest I/O; the single loop (before sharding) made 13
    // calls here: the plan's PUT and the previous index's GET are added, and the seals (the
    // previous index's seal read, this index's seal written).
    expect(r.targets[0]).toMatchObject({ complete: true, copied: 1, shards: 1 });
    expect(calls).toEqual({
      getWithEtag: 2, // plan (none yet), shard checkpoint (none yet)
      listKeys: 2, // generations (plan, then pruning)
      get: 3, // previous index and its seal, shard checkpoints at finish
      put: 7, // plan, checkpoint, shard manifest, checkpoint (done), summary, index, its seal
      read: 1, // previous shard manifest
      listPage: 1,
      copy: 1,
    });
  });
});

describe('content restore and verify, sharded', () => {
  it('restores a generation of several shards, resumes after a crash without copying a key twice, and refuses a stranger', async () => {
    // Prepare: 9 objects in 3 shards; a restore that dies after 4 copies.
    const f = await contentFixture(clients);
    await seed(f, 9);
    const port = new S3ContentAdapter(clients);
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy), { shardKeys: 3 });
    const to = { bucket: f.sourceBucket, prefix: 'restored/' };
    let copies = 0;
    const crashing: ContentPort = Object.assign(Object.create(port) as ContentPort, {
      copy: async (...args: Parameters<ContentPort['copy']>) => {
        if (++copies > 4) throw new Error('simulated crash (Lambda killed)');
        return port.copy(...args);
      },
    });
    const req = { source: f.name, generation: '2026-11-02', to, concurrency: 1 };
    await expect(
      restoreGeneration(vaultContent(crashing, f.policy), crashing, f.policy, req),
    ).rejects.toThrow(/simulated crash/);
    await expect(restoreGeneration(vaultContent(port, f.policy), port, f.policy, req)).rejects.toThrow(
      /not empty/,
    );
    const { port: counted, calls } = counting(port);

    // Act
    const resumed = await restoreGeneration(vaultContent(counted, f.policy), counted, f.policy, {
      ...req,
      resume: true,
    });

    // Assess
    expect(resumed).toMatchObject({ objects: 9, alreadyRestored: 4 });
    expect(calls.copy).toBe(5);
    const restored = (await port.listKeys(to.bucket, to.prefix)).map((k) => k.slice(to.prefix.length));
    expect(restored).toEqual(Array.from({ length: 9 }, (_, i) => key(i)));
    expect(
      await verifyGeneration(vaultContent(port, f.policy), f.policy, {
        source: f.name,
        generation: '2026-11-02',
      }),
    ).toMatchObject({
      ok: true,
      objects: 9,
      checked: 9,
    });
    await putSource(clients, { ...f, prefix: 'restored/' }, 'zz-stranger.png', { body: 'x' });
    await expect(
      restoreGeneration(vaultContent(port, f.policy), port, f.policy, { ...req, resume: true }),
    ).rejects.toThrow(/holds restored\/zz-stranger.png, which is not in/);
  });
});
