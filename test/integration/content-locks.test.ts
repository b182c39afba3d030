// Integration (content): an object that does not change stays locked as long
// as the newest generation references it. A copy is locked a term
// (generations + 1 days) plus a stride (a term by default, content[].lockStrideDays);
// a generation carrying an older version forward lengthens its lock
// (PutObjectRetention) as far again only when less than one term is left, so
// most days cost no request at all. "Later" days run on a clock moved
// forward: S3 (and the emulator) compare locks with the wall clock, the run
// decides from the dates its manifests record.
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { type ContentPort, S3ContentAdapter } from '../../shared/aws/content.ts';
import { contentBackupPorts, readManifest } from '../../shared/aws/content-generations.ts';
import { vaultLock } from '../../shared/aws/vault-lock.ts';
import { vaultLayout } from '../../shared/domain/content.ts';
import { contentBackup } from '../../shared/usecases/content-backup.ts';
import { type ContentFixture, contentFixture, putSource } from '../support/content.ts';
import { emulatorClients } from '../support/emulator.ts';

const clients = emulatorClients();
const DAY = 86_400_000;
const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 20, 30)); // 05:30 Tokyo on Nov 2+n

/** Counts the port's lock extensions (objects, and calls). */
function counting(real: ContentPort) {
  const seen = { calls: 0, objects: 0 };
  const port = Object.assign(Object.create(real) as ContentPort, {
    extendRetention: (...args: Parameters<ContentPort['extendRetention']>) => {
      seen.calls++;
      seen.objects += args[0].length;
      return real.extendRetention(...args);
    },
  });
  return { port, seen };
}

/** The fixture's content port (lengthenings counted) and the retain-until date S3 holds for a vault version. */
function lockedVault(f: ContentFixture) {
  const real = new S3ContentAdapter(clients, undefined, vaultLock(f.policy));
  const retainUntil = async (key: string, versionId: string) =>
    (
      await clients.get(S3Client).send(
        new HeadObjectCommand({
          Bucket: f.policy.vault.bucket,
          Key: vaultLayout.objectKey(f.name, key),
          VersionId: versionId,
        }),
      )
    ).ObjectLockRetainUntilDate?.getTime() ?? 0;
  return { real, retainUntil, ...counting(real) };
}

describe('locks of content objects carried from older generations', () => {
  it('lengthens the lock of an unchanged object only when less than a term is left, and records it in the manifest', async () => {
    // Prepare: 4 objects (7 generations kept: a term is 8 days, a copy locked 16).
    const f = await contentFixture(clients);
    for (let i = 0; i < 4; i++) await putSource(clients, f, `img-${i}.png`, { body: `image ${i}` });
    const { real, port, seen, retainUntil } = lockedVault(f);
    const t0 = Date.now();
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));
    const first = (await readManifest(real, f.policy, f.name, '2026-11-02')) ?? [];

    // Act: the next day (nothing left to do); 9 days on, img-0 changed (less than a term left on the others).
    await contentBackup(day(1), f.policy, contentBackupPorts(port, f.policy), { clock: () => t0 + DAY });
    const afterNextDay = { ...seen };
    await putSource(clients, f, 'img-0.png', { body: 'image 0 v2' });
    const later = t0 + 9 * DAY;
    const r = await contentBackup(day(9), f.policy, contentBackupPorts(port, f.policy), {
      clock: () => later,
    });
    const ninth = (await readManifest(real, f.policy, f.name, '2026-11-11')) ?? [];
    // And the day after that: every lock is long enough again.
    await contentBackup(day(10), f.policy, contentBackupPorts(port, f.policy), { clock: () => later + DAY });

    // Assess: the copy's lock is recorded (two terms); nothing lengthened the next day.
    for (const e of first) {
      expect(Date.parse(e.lockedUntil ?? '')).toBeGreaterThanOrEqual(t0 + 16 * DAY - 60_000);
      expect(await retainUntil(e.key, e.versionId)).toBeGreaterThanOrEqual(Date.parse(e.lockedUntil ?? ''));
    }
    expect(afterNextDay).toEqual({ calls: 0, objects: 0 });
    // Day 9: the three unchanged versions lengthened in one call, to two terms from then; img-0 copied.
    expect(r.targets[0]).toMatchObject({ copied: 1, unchanged: 3, locksExtended: 3 });
    expect(seen).toEqual({ calls: 1, objects: 3 });
    for (const e of ninth.filter((x) => x.key !== 'img-0.png')) {
      expect(e.versionId).toBe(first.find((x) => x.key === e.key)?.versionId);
      expect(Date.parse(e.lockedUntil ?? '')).toBe(later + 16 * DAY);
      expect(Math.abs((await retainUntil(e.key, e.versionId)) - (later + 16 * DAY))).toBeLessThan(1000);
    }
  });
  it('with a longer stride (content[].lockStrideDays), sets locks that far ahead and lengthens them that much rarer, shard by shard', async () => {
    // Prepare: 5 objects in 3 shards of at most 2 keys; 7 generations (a term of 8 days), a stride of 30.
    const f = await contentFixture(clients, 7, (p) => {
      for (const c of p.content) c.lockStrideDays = 30;
    });
    for (let i = 0; i < 5; i++) await putSource(clients, f, `img-${i}.png`, { body: `image ${i}` });
    const { real, port, seen, retainUntil } = lockedVault(f);
    const opts = { shardKeys: 2, chunkKeys: 2 };
    const t0 = Date.now();
    const first = await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy), opts);
    const copies = (await readManifest(real, f.policy, f.name, '2026-11-02')) ?? [];

    // Act: 9 days on (a default stride would lengthen them all); 31 days on, img-0 changed.
    const ninth = await contentBackup(day(9), f.policy, contentBackupPorts(port, f.policy), {
      ...opts,
      clock: () => t0 + 9 * DAY,
    });
    const afterNinth = { ...seen };
    await putSource(clients, f, 'img-0.png', { body: 'image 0 v2' });
    const later = t0 + 31 * DAY;
    const r = await contentBackup(day(31), f.policy, contentBackupPorts(port, f.policy), {
      ...opts,
      clock: () => later,
    });
    const last = (await readManifest(real, f.policy, f.name, '2026-12-03')) ?? [];

    // Assess: several shards; copies locked a term plus the stride (38 days), in S3 as in the manifest.
    expect(first.targets[0]).toMatchObject({ copied: 5 });
    expect(first.targets[0]).toMatchObject({ shards: 3 });
    expect(copies).toHaveLength(5);
    for (const e of copies) {
      expect(Date.parse(e.lockedUntil ?? '')).toBeGreaterThanOrEqual(t0 + 38 * DAY - 60_000);
      expect(await retainUntil(e.key, e.versionId)).toBeGreaterThanOrEqual(Date.parse(e.lockedUntil ?? ''));
    }
    // 29 days left on day 9: nothing lengthened.
    expect(ninth.targets[0]).toMatchObject({ unchanged: 5, locksExtended: 0 });
    expect(afterNinth).toEqual({ calls: 0, objects: 0 });
    // Day 31: 7 days left, less than a term: the four unchanged lengthened to 38 days from then, across the shards.
    expect(r.targets[0]).toMatchObject({ copied: 1, unchanged: 4, locksExtended: 4 });
    expect(seen.objects).toBe(4);
    for (const e of last.filter((x) => x.key !== 'img-0.png')) {
      expect(e.versionId).toBe(copies.find((x) => x.key === e.key)?.versionId);
      expect(Date.parse(e.lockedUntil ?? '')).toBe(later + 38 * DAY);
      expect(Math.abs((await retainUntil(e.key, e.versionId)) - (later + 38 * DAY))).toBeLessThan(1000);
    }
  });
  it("records a copy a crashed attempt made under a shorter stride at the lock it has, not at today's stride", async () => {
    // Prepare: the first attempt (default stride: locked 16 days) crashes after 3 of 5 copies.
    const f = await contentFixture(clients);
    for (let i = 0; i < 5; i++) await putSource(clients, f, `img-${i}.png`, { body: `image ${i}` });
    const before = lockedVault(f);
    let copies = 0;
    const crashing: ContentPort = Object.assign(Object.create(before.real) as ContentPort, {
      copy: async (...args: Parameters<ContentPort['copy']>) => {
        if (++copies > 3) throw new Error('simulated crash (Lambda killed)');
        return before.real.copy(...args);
      },
    });
    const opts = { chunkKeys: 5, concurrency: 1 };
    const crashed = await contentBackup(day(0), f.policy, contentBackupPorts(crashing, f.policy), opts);
    expect(crashed.targets[0]?.status).toBe('failed');

    // Act: the stride raised to 30 days (a deploy) before the retry, which finds the three copies.
    for (const c of f.policy.content) c.lockStrideDays = 30;
    const after = lockedVault(f);
    const r = await contentBackup(day(0), f.policy, contentBackupPorts(after.port, f.policy), opts);

    // Assess: no manifest date beyond the lock S3 holds; the new copies locked 38 days.
    expect(r.targets[0]).toMatchObject({ status: 'ok', complete: true, reused: 3, copied: 2 });
    const manifest = (await readManifest(after.real, f.policy, f.name, '2026-11-02')) ?? [];
    expect(manifest).toHaveLength(5);
    const held = await Promise.all(manifest.map((e) => after.retainUntil(e.key, e.versionId)));
    manifest.forEach((e, i) => {
      expect(Date.parse(e.lockedUntil ?? '')).toBeLessThanOrEqual(held[i] ?? 0);
    });
    expect(held.filter((t) => t > Date.now() + 30 * DAY)).toHaveLength(2);
  });
});
