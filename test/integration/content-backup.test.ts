// Integration (content class): daily generations against the emulator: only
// what changed is copied, deletions are recorded, metadata survives, an
// interrupted or time-boxed run continues without losing or doubling objects,
// and no manifest exists before the generation is complete.
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { type ContentPort, S3ContentAdapter } from '../../shared/aws/content.ts';
import { contentBackupPorts, listGenerations, readManifest } from '../../shared/aws/content-generations.ts';
import { MiB, vaultLayout } from '../../shared/domain/content.ts';
import { verifyGeneration } from '../../shared/restore/content-generation.ts';
import { contentBackup } from '../../shared/usecases/content-backup.ts';
import {
  type ContentFixture,
  contentFixture,
  deleteSource,
  putSource,
  snapshotObject,
} from '../support/content.ts';
import { emulatorClients } from '../support/emulator.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';

const clients = emulatorClients();
const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 20, 30)); // 05:30 Tokyo on Nov 2+n

async function seed(f: ContentFixture, count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await putSource(clients, f, `img-${String(i).padStart(3, '0')}.png`, { body: `image ${i} v1` });
}

async function vaultVersions(f: ContentFixture): Promise<Map<string, number>> {
  const out = await clients.get(S3Client).send(
    new ListObjectVersionsCommand({
      Bucket: f.policy.vault.bucket,
      Prefix: vaultLayout.objectsPrefix(f.name),
    }),
  );
  const counts = new Map<string, number>();
  for (const v of out.Versions ?? []) counts.set(v.Key ?? '', (counts.get(v.Key ?? '') ?? 0) + 1);
  return counts;
}

describe('content backup', () => {
  it('copies nothing when the source has not changed since the previous generation', async () => {
    // Prepare
    const f = await contentFixture(clients);
    await seed(f, 5);
    const port = new S3ContentAdapter(clients);
    const first = await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));

    // Act
    const second = await contentBackup(day(1), f.policy, contentBackupPorts(port, f.policy));

    // Assess
    expect(first.targets[0]).toMatchObject({ status: 'ok', copied: 5, complete: true });
    expect(second.targets[0]).toMatchObject({
      status: 'ok',
      copied: 0,
      unchanged: 5,
      deleted: 0,
      complete: true,
    });
    const [m1, m2] = await Promise.all([
      readManifest(port, f.policy, f.name, '2026-11-02'),
      readManifest(port, f.policy, f.name, '2026-11-03'),
    ]);
    expect(m2).toEqual(m1);
    expect([...(await vaultVersions(f)).values()].every((n) => n === 1)).toBe(true);
  });

  it('copies changed and added objects and records deletions without losing the deleted data when the source changes', async () => {
    // Prepare
    const f = await contentFixture(clients);
    await seed(f, 3);
    const port = new S3ContentAdapter(clients);
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));
    await putSource(clients, f, 'img-000.png', { body: 'image 0 v2 (edited)' });
    await putSource(clients, f, 'new/added.png', { body: 'added on day 2' });
    await deleteSource(clients, f, 'img-001.png');

    // Act
    const result = await contentBackup(day(1), f.policy, contentBackupPorts(port, f.policy));

    // Assess
    expect(result.targets[0]).toMatchObject({ copied: 2, unchanged: 1, deleted: 1, complete: true });
    const m1 = await readManifest(port, f.policy, f.name, '2026-11-02');
    const m2 = await readManifest(port, f.policy, f.name, '2026-11-03');
    expect(m2?.map((e) => e.key)).toEqual(['img-000.png', 'img-002.png', 'new/added.png']);
    // The deleted object is still in the older generation, by its version.
    const deleted = m1?.find((e) => e.key === 'img-001.png');
    const bytes = await port.get({
      bucket: f.policy.vault.bucket,
      key: vaultLayout.objectKey(f.name, 'img-001.png'),
      versionId: deleted?.versionId,
    });
    expect(bytes?.toString()).toBe('image 1 v1');
    // …but no longer current in the vault (a delete marker: it expires with the generations).
    expect(
      await port.head({ bucket: f.policy.vault.bucket, key: vaultLayout.objectKey(f.name, 'img-001.png') }),
    ).toBeUndefined();
    const summary = await port.get({
      bucket: f.policy.vault.bucket,
      key: vaultLayout.summaryKey(f.policy, f.name, '2026-11-03'),
    });
    expect(JSON.parse(summary?.toString() ?? '{}').deletedKeys).toEqual(['img-001.png']);
  });

  it('preserves content type, user metadata (POSIX mode/owner/mtime) and tags when it copies into the vault', async () => {
    // Prepare
    const f = await contentFixture(clients);
    const metadata = {
      'file-permissions': '0644',
      'file-owner': '1001',
      'file-group': '1001',
      'file-mtime': '1763700000000000000ns',
      mode: '33188',
      uid: '1001',
      gid: '1001',
      mtime: '1763700000',
    };
    await putSource(clients, f, 'photo.jpg', {
      body: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]),
      contentType: 'image/jpeg',
      metadata,
      tags: { app: 'shop', pii: 'no' },
    });
    const port = new S3ContentAdapter(clients);

    // Act
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));

    // Assess
    const entry = (await readManifest(port, f.policy, f.name, '2026-11-02'))?.[0];
    const source = await snapshotObject(clients, f.sourceBucket, `${f.prefix}photo.jpg`);
    const copy = await snapshotObject(
      clients,
      f.policy.vault.bucket,
      vaultLayout.objectKey(f.name, 'photo.jpg'),
      entry?.versionId,
    );
    expect(copy).toEqual(source);
    expect(copy.metadata).toMatchObject(metadata);
    expect(copy.tags).toEqual({ app: 'shop', pii: 'no' });
    expect(entry?.sha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('resumes an interrupted run without copying an object twice or losing one, and writes no manifest until complete', async () => {
    // Prepare: the run crashes after 7 copies (chunks of 4 keys).
    const f = await contentFixture(clients);
    await seed(f, 12);
    const real = new S3ContentAdapter(clients);
    let copies = 0;
    const crashing: ContentPort = Object.assign(Object.create(real) as ContentPort, {
      copy: async (...args: Parameters<ContentPort['copy']>) => {
        if (++copies > 7) throw new Error('simulated crash (Lambda killed)');
        return real.copy(...args);
      },
    });
    const crashed = await contentBackup(day(0), f.policy, contentBackupPorts(crashing, f.policy), {
      chunkKeys: 4,
      concurrency: 1,
    });
    expect(crashed.targets[0]?.status).toBe('failed');
    expect(await listGenerations(real, f.policy, f.name)).toEqual([]);

    // Act
    const resumed = await contentBackup(day(0), f.policy, contentBackupPorts(real, f.policy), {
      chunkKeys: 4,
      concurrency: 1,
    });

    // Assess
    expect(resumed.targets[0]).toMatchObject({ status: 'ok', complete: true, reused: 3 });
    const manifest = await readManifest(real, f.policy, f.name, '2026-11-02');
    expect(manifest?.map((e) => e.key)).toEqual(
      Array.from({ length: 12 }, (_, i) => `img-${String(i).padStart(3, '0')}.png`),
    );
    const versions = await vaultVersions(f);
    expect(versions.size).toBe(12);
    expect([...versions.values()].every((n) => n === 1)).toBe(true);
  });

  it('stops at its time budget without a manifest and completes the generation when continued', async () => {
    // Prepare
    const f = await contentFixture(clients);
    await seed(f, 10);
    const port = new S3ContentAdapter(clients);

    // Act: a zero budget does one chunk per call.
    const slices = [];
    for (let i = 0; i < 10; i++) {
      const r = await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy), {
        chunkKeys: 3,
        budgetMs: 0,
      });
      slices.push(r);
      if (r.complete) break;
      expect(await listGenerations(port, f.policy, f.name)).toEqual([]);
    }

    // Assess
    expect(slices.map((s) => s.complete)).toEqual([false, false, false, true]);
    expect((await readManifest(port, f.policy, f.name, '2026-11-02'))?.length).toBe(10);
    const again = await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));
    expect(again.targets[0]).toMatchObject({ status: 'skipped', complete: true });
  });

  it('keeps the part size of a multipart copy it reuses after a crash, so the generation verifies', async () => {
    // Prepare: an 11 MiB object copied in 5 MiB parts, then the run dies before its part file.
    const f = await contentFixture(clients);
    await putSource(clients, f, 'a-video.mp4', { body: Buffer.alloc(11 * MiB, 3) });
    await putSource(clients, f, 'b.png', { body: 'small' });
    const copy = {
      multipartThreshold: 6 * MiB,
      partLimits: { minPart: 5 * MiB, maxPart: 5 * MiB, maxParts: 10_000, preferredPart: 5 * MiB },
    };
    const real = new S3ContentAdapter(clients);
    let copies = 0;
    const crashing: ContentPort = Object.assign(Object.create(real) as ContentPort, {
      copy: async (...args: Parameters<ContentPort['copy']>) => {
        const r = await real.copy(...args);
        if (++copies === 1) throw new Error('simulated crash (Lambda killed) after the copy');
        return r;
      },
    });
    const crashed = await contentBackup(day(0), f.policy, contentBackupPorts(crashing, f.policy), {
      copy,
      chunkKeys: 10,
      concurrency: 1,
    });
    expect(crashed.targets[0]?.status).toBe('failed');

    // Act: the next invocation reuses the copy the crashed one made.
    const resumed = await contentBackup(day(0), f.policy, contentBackupPorts(real, f.policy), {
      copy,
      chunkKeys: 10,
      concurrency: 1,
    });

    // Assess
    expect(resumed.targets[0]).toMatchObject({ status: 'ok', complete: true, reused: 1 });
    const entry = (await readManifest(real, f.policy, f.name, '2026-11-02'))?.find(
      (e) => e.key === 'a-video.mp4',
    );
    expect(entry).toMatchObject({ size: 11 * MiB, partSize: 5 * MiB });
    expect(entry?.sha256).toMatch(/-3$/);
    expect(
      await verifyGeneration(vaultContent(real, f.policy), f.policy, {
        source: f.name,
        generation: '2026-11-02',
      }),
    ).toMatchObject({
      ok: true,
      checked: 2,
    });
  });

  it('lets a second run of the same generation (a duplicate delivery) win without either overwriting the other', async () => {
    // Prepare: run A stalls in its first copy; run B starts meanwhile and finishes the generation.
    const f = await contentFixture(clients);
    await seed(f, 6);
    const real = new S3ContentAdapter(clients);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let stalled = false;
    const stalling: ContentPort = Object.assign(Object.create(real) as ContentPort, {
      copy: async (...args: Parameters<ContentPort['copy']>) => {
        if (!stalled) {
          stalled = true;
          await gate;
        }
        return real.copy(...args);
      },
    });
    const opts = { chunkKeys: 3, concurrency: 1 };
    const a = contentBackup(day(0), f.policy, contentBackupPorts(stalling, f.policy), opts);
    const checkpoint = vaultLayout.shardCheckpointKey(f.policy, f.name, '2026-11-02', 0);
    while (!stalled || !(await real.head({ bucket: f.policy.vault.bucket, key: checkpoint })))
      await new Promise((r) => setTimeout(r, 20));

    // Act
    const b = await contentBackup(day(0), f.policy, contentBackupPorts(real, f.policy), opts);
    release();
    const first = await a;

    // Assess: B finished the generation; A found the checkpoint moved on and stopped, writing nothing over it.
    expect(b.targets[0]).toMatchObject({ status: 'ok', complete: true });
    expect(first.targets[0]?.status).toBe('skipped');
    expect(first.targets[0]?.actions).toContainEqual(
      'generation 2026-11-02 was continued by another run: this invocation stopped, nothing was overwritten',
    );
    const manifestKey = vaultLayout.indexKey(f.policy, f.name, '2026-11-02');
    const manifestVersions = await clients
      .get(S3Client)
      .send(new ListObjectVersionsCommand({ Bucket: f.policy.vault.bucket, Prefix: manifestKey }));
    expect(manifestVersions.Versions?.length).toBe(1);
    expect(
      await verifyGeneration(vaultContent(real, f.policy), f.policy, {
        source: f.name,
        generation: '2026-11-02',
      }),
    ).toMatchObject({
      ok: true,
      checked: 6,
    });
  });

  it('skips and reports source objects in an archive storage class instead of failing the source', async () => {
    // Prepare: one object moved to DEEP_ARCHIVE in the source after the first generation, one new there.
    const f = await contentFixture(clients);
    await seed(f, 3);
    const port = new S3ContentAdapter(clients);
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = clients.get(S3Client);
    await s3.send(
      new PutObjectCommand({
        Bucket: f.sourceBucket,
        Key: `${f.prefix}img-001.png`,
        Body: 'image 1 v2',
        StorageClass: 'DEEP_ARCHIVE',
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: f.sourceBucket,
        Key: `${f.prefix}old.png`,
        Body: 'x',
        StorageClass: 'GLACIER',
      }),
    );

    // Act
    const r = await contentBackup(day(1), f.policy, contentBackupPorts(port, f.policy));

    // Assess: the source succeeded, said what it could not copy, and kept the previous copy it had.
    expect(r.ok).toBe(true);
    expect(r.targets[0]).toMatchObject({ status: 'ok', complete: true, archivedSkipped: 2 });
    expect(r.targets[0]?.warnings).toEqual([
      expect.stringMatching(
        /^2 source object\(s\) in an archive storage class were not copied \(first: img-001.png, old.png\)/,
      ),
    ]);
    const manifest = await readManifest(port, f.policy, f.name, '2026-11-03');
    const before = await readManifest(port, f.policy, f.name, '2026-11-02');
    expect(manifest?.map((e) => e.key)).toEqual(['img-000.png', 'img-001.png', 'img-002.png']);
    expect(manifest?.find((e) => e.key === 'img-001.png')).toEqual(
      before?.find((e) => e.key === 'img-001.png'),
    );
  });
});
