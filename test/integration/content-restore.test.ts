// Integration (content class): a generation restores to exactly what the
// source held that day; verify re-reads the vault and catches corruption.
import { CreateBucketCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { type ContentPort, S3ContentAdapter } from '../../shared/aws/content.ts';
import { contentBackupPorts, readManifest } from '../../shared/aws/content-generations.ts';
import { MiB, vaultLayout } from '../../shared/domain/content.ts';
import { contentBackup } from '../../shared/usecases/content-backup.ts';
import { estatePorts } from '../../shared/edge/report-ports.ts';
import { inventory } from '../../shared/usecases/inventory.ts';
import {
  resolveGeneration,
  restoreGeneration,
  verifyGeneration,
} from '../../shared/restore/content-generation.ts';
import {
  type ContentFixture,
  contentFixture,
  deleteSource,
  type ObjectSnapshot,
  putSource,
  snapshotObject,
} from '../support/content.ts';
import { operatorClients } from '../../local/iam/principals.ts';
import { prepareIsolatedTarget } from '../../shared/restore/isolated-network.ts';
import { emulatorClients, uniqueSuffix } from '../support/emulator.ts';
import { asValidationRestore } from '../support/functions.ts';
import { requestsOf } from '../support/iam.ts';
import { contentRestoreStep } from '../../shared/edge/restore-steps.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';
import { awsTargetInfra } from '../../shared/aws/restore-ports.ts';

const clients = emulatorClients();
const port = new S3ContentAdapter(clients);
const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 20, 30)); // 05:30 Tokyo, Nov 2+n

async function sourceState(f: ContentFixture): Promise<Map<string, ObjectSnapshot>> {
  const keys = (await port.listKeys(f.sourceBucket, f.prefix)).sort();
  const out = new Map<string, ObjectSnapshot>();
  for (const k of keys) out.set(k.slice(f.prefix.length), await snapshotObject(clients, f.sourceBucket, k));
  return out;
}

async function targetBucket(): Promise<string> {
  const bucket = `kura-restore-${uniqueSuffix()}`;
  await clients.get(S3Client).send(
    new CreateBucketCommand({
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-1' },
    }),
  );
  return bucket;
}

/** Five simulated days: edits, additions and deletions, a backup after each; the source state of each day. */
async function fiveDays(f: ContentFixture): Promise<Map<string, ObjectSnapshot>[]> {
  const states: Map<string, ObjectSnapshot>[] = [];
  for (let i = 0; i < 4; i++) {
    await putSource(clients, f, `a/${i}.png`, {
      body: `a${i} day0`,
      metadata: { mode: '33188', uid: '1000', gid: '1000', mtime: '1763000000' },
      tags: { app: 'shop' },
    });
  }
  for (let d = 0; d < 5; d++) {
    if (d > 0) {
      await putSource(clients, f, `a/${d % 4}.png`, {
        body: `a${d % 4} edited on day ${d}`,
        contentType: 'image/webp',
        metadata: { mode: '33184', uid: '1001', gid: '1001', mtime: `${1763000000 + d * 86400}` },
        tags: { app: 'shop', edit: String(d) },
      });
      await putSource(clients, f, `b/new-${d}.png`, { body: `added on day ${d}` });
      if (d === 2) await deleteSource(clients, f, 'a/3.png');
    }
    states.push(await sourceState(f));
    await contentBackup(day(d), f.policy, contentBackupPorts(port, f.policy));
  }
  return states;
}

describe('content restore and verify', () => {
  it('restores generation N-3 byte- and metadata-identical to the source as it was that day', async () => {
    // Prepare
    const f = await contentFixture(clients);
    const states = await fiveDays(f);
    const to = { bucket: await targetBucket(), prefix: 'restored/' };
    const generation = await resolveGeneration(vaultContent(port, f.policy), f.policy, f.name, '2026-11-03'); // day 1 = N-3 of 5

    // Act
    const outcome = await restoreGeneration(vaultContent(port, f.policy), port, f.policy, {
      source: f.name,
      generation,
      to,
    });

    // Assess
    const expected = states[1] as Map<string, ObjectSnapshot>;
    expect(outcome.objects).toBe(expected.size);
    const restoredKeys = (await port.listKeys(to.bucket, to.prefix))
      .map((k) => k.slice(to.prefix.length))
      .sort();
    expect(restoredKeys).toEqual([...expected.keys()]);
    for (const [key, want] of expected)
      expect(await snapshotObject(clients, to.bucket, to.prefix + key)).toEqual(want);
    // …and it is not today's state.
    expect((states[4] as Map<string, ObjectSnapshot>).get('a/0.png')).not.toEqual(expected.get('a/0.png'));
  });

  it('refuses to restore into a prefix that already has objects, before copying anything', async () => {
    // Prepare
    const f = await contentFixture(clients);
    await putSource(clients, f, 'x.png', { body: 'x' });
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));
    const bucket = await targetBucket();
    await port.put(bucket, 'restored/existing.txt', 'keep me');

    // Act
    const attempt = restoreGeneration(vaultContent(port, f.policy), port, f.policy, {
      source: f.name,
      generation: '2026-11-02',
      to: { bucket, prefix: 'restored/' },
    });

    // Assess
    await expect(attempt).rejects.toThrow(/not empty/);
    expect(await port.listKeys(bucket, 'restored/')).toEqual(['restored/existing.txt']);
  });

  it('reports a vault object whose bytes no longer match the manifest, and one whose version is gone', async () => {
    // Prepare: a healthy generation of three objects, in a GOVERNANCE vault (a COMPLIANCE one,
    // the default, lets no one destroy the version: test/integration/vault-lock.test.ts).
    const f = await contentFixture(clients, 7, (p) => {
      p.vault.objectLock.mode = 'GOVERNANCE';
    });
    for (const k of ['one.png', 'two.png', 'three.png'])
      await putSource(clients, f, k, { body: `bytes of ${k}` });
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));
    const healthy = await verifyGeneration(vaultContent(port, f.policy), f.policy, {
      source: f.name,
      generation: '2026-11-02',
    });
    // Bit rot in one object (the emulator cannot alter a stored version, so the read is wrapped)…
    const rotten: ContentPort = Object.assign(Object.create(port) as ContentPort, {
      read: async function* (ref: Parameters<ContentPort['read']>[0]) {
        for await (const chunk of port.read(ref)) {
          const b = Buffer.from(chunk);
          if (ref.key.endsWith('two.png')) b[0] = (b[0] ?? 0) ^ 0x01;
          yield b;
        }
      },
    });
    // …and one version destroyed by someone holding the governance bypass.
    const entry = (await readManifest(port, f.policy, f.name, '2026-11-02'))?.find(
      (e) => e.key === 'three.png',
    );
    await clients.get(S3Client).send(
      new DeleteObjectCommand({
        Bucket: f.policy.vault.bucket,
        Key: vaultLayout.objectKey(f.name, 'three.png'),
        VersionId: entry?.versionId,
        BypassGovernanceRetention: true,
      }),
    );

    // Act
    const report = await verifyGeneration(vaultContent(rotten, f.policy), f.policy, {
      source: f.name,
      generation: '2026-11-02',
    });

    // Assess
    expect(healthy).toMatchObject({ ok: true, checked: 3, failures: [] });
    expect(report.ok).toBe(false);
    expect(report.failures.map((x) => [x.key, x.problem.split(' ')[0]])).toEqual([
      ['three.png', 'version'],
      ['two.png', 'SHA-256'],
    ]);
  });

  it('copies objects above the multipart threshold in parts and restores and verifies them', async () => {
    // Prepare: an 11 MiB object with a 6 MiB threshold (5 GiB on AWS) and 5 MiB parts.
    const f = await contentFixture(clients);
    const big = Buffer.alloc(11 * MiB, 7);
    big.write('head', 0);
    await putSource(clients, f, 'video.mp4', {
      body: big,
      contentType: 'video/mp4',
      metadata: { uid: '1000' },
      tags: { kind: 'video' },
    });
    const copy = {
      multipartThreshold: 6 * MiB,
      partLimits: { minPart: 5 * MiB, maxPart: 5 * MiB, maxParts: 10_000, preferredPart: 5 * MiB },
    };

    // Act
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy), { copy });
    const report = await verifyGeneration(vaultContent(port, f.policy), f.policy, {
      source: f.name,
      generation: '2026-11-02',
    });
    const to = { bucket: await targetBucket(), prefix: 'r/' };
    await restoreGeneration(vaultContent(port, f.policy), port, f.policy, {
      source: f.name,
      generation: '2026-11-02',
      to,
      copy,
    });

    // Assess
    const entry = (await readManifest(port, f.policy, f.name, '2026-11-02'))?.[0];
    expect(entry).toMatchObject({ key: 'video.mp4', size: 11 * MiB, partSize: 5 * MiB });
    expect(entry?.sha256).toMatch(/-3$/);
    expect(report).toMatchObject({ ok: true, checked: 1 });
    expect(await snapshotObject(clients, to.bucket, 'r/video.mp4')).toEqual(
      await snapshotObject(clients, f.sourceBucket, `${f.prefix}video.mp4`),
    );
  });

  it('lists generations newest first, restores a sample into the target bucket and cleans up only that', async () => {
    // Prepare
    const f = await contentFixture(clients);
    for (let i = 0; i < 6; i++) await putSource(clients, f, `p/${i}.png`, { body: `p${i}` });
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));
    await putSource(clients, f, 'p/0.png', { body: 'p0 v2' });
    await contentBackup(day(1), f.policy, contentBackupPorts(port, f.policy));
    const bucket = await targetBucket();
    await port.put(bucket, 'other/keep.txt', 'not ours');
    const deps = { policy: f.policy, clients };
    // The vault is read as the validation machine's function that restores content; the target is written as given.
    const fn = await asValidationRestore('content', deps);
    const target = { clients, accountId: '123456789012', region: 'ap-northeast-1', bucket };

    // Act
    const points = await contentRestoreStep.list(fn, { source: f.name });
    const item = await contentRestoreStep.restore(fn, target, points[1] as (typeof points)[number], {
      runId: 'v-test',
      sample: 3,
      purpose: 'validation',
    });
    const written = await port.listKeys(bucket, 'kura-restore/');
    await contentRestoreStep.cleanup(target, item.resources);
    await contentRestoreStep.cleanup(target, item.resources);

    // Assess
    expect(points.map((p) => p.id)).toEqual(['2026-11-03', '2026-11-02']);
    const listed = (await inventory(deps, estatePorts(deps))).filter(
      (i) => i.class === 'content' && i.source === f.name,
    );
    expect(listed.map((i) => i.id)).toEqual(['2026-11-02', '2026-11-03']);
    expect(points[0]?.time).toBe(day(1).toISOString());
    expect(written).toHaveLength(3);
    expect(written.every((k) => k.startsWith(`kura-restore/content/${f.name}/2026-11-02/v-test/p/`))).toBe(
      true,
    );
    expect(await port.listKeys(bucket, '')).toEqual(['other/keep.txt']);
  });

  it('restores into the isolated account with no request of the isolated role naming the vault', async () => {
    // Prepare: a backed-up generation, and the isolated account as the validation's content function reaches it.
    const f = await contentFixture(clients);
    await putSource(clients, f, 'img/a.png', {
      body: 'a',
      contentType: 'image/png',
      metadata: { mtime: '1763000000' },
      tags: { app: 'shop' },
    });
    await putSource(clients, f, 'img/b.png', { body: 'b'.repeat(2048) });
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));
    const deps = await asValidationRestore('content', { policy: f.policy, clients });
    const target = await prepareIsolatedTarget(deps, awsTargetInfra);
    const [point] = await contentRestoreStep.list(deps, { source: f.name });
    const runId = `iso-${uniqueSuffix()}`;

    // Act: the IAM front layer records each request with its principal and what it was authorized on.
    const { result: item, requests } = await requestsOf(() =>
      contentRestoreStep.restore(deps, target, point as NonNullable<typeof point>, {
        runId,
        purpose: 'validation',
        // A validation restores a sample (validation.contentSample, here all of both objects).
        sample: 50,
      }),
    );

    // Assess: the vault was read as kura's validation content role only...
    const vault = `arn:aws:s3:::${f.policy.vault.bucket}`;
    const resourcesOf = (principal: string) =>
      requests.filter((r) => r.principal === principal).flatMap((r) => r.needs.map((n) => n.resource));
    const byIsolated = resourcesOf('kura-restore (isolated)');
    expect(byIsolated.length).toBeGreaterThan(0);
    expect(byIsolated.filter((r) => r === vault || r.startsWith(`${vault}/`))).toEqual([]);
    expect(
      resourcesOf('ValidationContentRole').filter((r) => r.startsWith(`${vault}/`)).length,
    ).toBeGreaterThan(0);
    // ...and what the isolated account holds is what the source held, metadata and tags included
    // (read back by that account's administrator).
    const admin = await operatorClients(target.accountId, clients);
    const restored = new S3ContentAdapter(admin);
    const where = `kura-restore/content/${f.name}/${point?.id}/${runId}/`;
    expect((await restored.listKeys(target.bucket, where)).sort()).toEqual([
      `${where}img/a.png`,
      `${where}img/b.png`,
    ]);
    expect(await snapshotObject(admin, target.bucket, `${where}img/a.png`)).toEqual(
      await snapshotObject(clients, f.sourceBucket, `${f.prefix}img/a.png`),
    );
    expect(item.recoveryPoint.details?.restoredObjects).toBe(2);
    await contentRestoreStep.cleanup(target, item.resources);
  });
});
