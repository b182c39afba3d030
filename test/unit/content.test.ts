// Unit (content class): generation naming, the manifest diff, multipart copy
// planning, checksums and lifecycle rules. Pure code, no emulator.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  COPY_OBJECT_MAX,
  compareKeys,
  contentLifecycleRules,
  decodeManifest,
  diffChunk,
  encodeManifest,
  GiB,
  generationName,
  keysInRange,
  type ManifestEntry,
  MiB,
  partSizeFor,
  planParts,
  S3_PART_LIMITS,
  sampleEntries,
  sha256OfStream,
} from '../../shared/domain/content.ts';
import { loadPolicy } from '../../shared/policy/load.ts';

const entry = (key: string, etag = '"e"', size = 1): ManifestEntry => ({
  key,
  size,
  etag,
  sha256: 's',
  versionId: 'v',
  mtime: '2026-01-01T00:00:00.000Z',
});
const listed = (key: string, etag = '"e"', size = 1) => ({
  key,
  size,
  etag,
  mtime: '2026-01-01T00:00:00.000Z',
});

describe('generation naming', () => {
  it('names a generation by its scheduled date in the policy time zone when UTC is still the day before', () => {
    expect(generationName(new Date('2026-11-21T20:30:00Z'), 'Asia/Tokyo')).toBe('2026-11-22');
    expect(generationName(new Date('2026-11-21T20:30:00Z'), 'UTC')).toBe('2026-11-21');
  });
});

describe('manifest diff', () => {
  it('copies only new and changed objects and records deletions within the chunk range', () => {
    const prev = [entry('a'), entry('b'), entry('c', '"old"'), entry('d'), entry('z')];
    const map = new Map(prev.map((e) => [e.key, e]));
    const keys = prev.map((e) => e.key);
    const diff = diffChunk([listed('a'), listed('c', '"new"'), listed('ca')], map, keys, undefined, 'd');
    expect(diff.unchanged.map((e) => e.key)).toEqual(['a']);
    expect(diff.toCopy.map((o) => o.key)).toEqual(['c', 'ca']);
    // b and d are gone; z lies beyond this chunk and is not judged yet.
    expect(diff.deleted).toEqual(['b', 'd']);
  });

  it('treats a same-ETag object with a new size or mtime as changed', () => {
    const map = new Map([['a', entry('a')]]);
    expect(diffChunk([listed('a', '"e"', 2)], map, ['a'], undefined, undefined).toCopy).toHaveLength(1);
    expect(
      diffChunk([{ ...listed('a'), mtime: '2026-02-01T00:00:00.000Z' }], map, ['a'], undefined, undefined)
        .toCopy,
    ).toHaveLength(1);
  });

  it('orders keys as S3 does (UTF-8 bytes), not as JavaScript does (UTF-16 units)', () => {
    // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts before U+1F600 (F0 …) in S3, after it in UTF-16.
    expect(compareKeys('\uff5e', '😀')).toBeLessThan(0);
    expect(keysInRange(['a', 'b', 'c', 'd'], 'a', 'c')).toEqual(['b', 'c']);
    expect(keysInRange(['a', 'b', 'c'], undefined, undefined)).toEqual(['a', 'b', 'c']);
  });

  it('round-trips a manifest through gzip JSON lines', () => {
    const entries = [entry('a'), { ...entry('b/c.png'), partSize: 8 * MiB }];
    expect(decodeManifest(encodeManifest(entries))).toEqual(entries);
    expect(decodeManifest(encodeManifest([]))).toEqual([]);
  });
});

describe('multipart copy planning', () => {
  it('does not use multipart at or below 5 GiB', () => {
    expect(COPY_OBJECT_MAX).toBe(5 * GiB);
  });

  it('covers every byte exactly once with contiguous parts within the S3 limits', () => {
    for (const size of [5 * GiB + 1, 6 * GiB, 50 * GiB + 12345, 5 * 1024 * GiB]) {
      const parts = planParts(size);
      expect(parts[0]?.first).toBe(0);
      expect(parts.at(-1)?.last).toBe(size - 1);
      expect(parts.length).toBeLessThanOrEqual(S3_PART_LIMITS.maxParts);
      parts.forEach((p, i) => {
        expect(p.partNumber).toBe(i + 1);
        if (i > 0) expect(p.first).toBe((parts[i - 1]?.last ?? 0) + 1);
        const len = p.last - p.first + 1;
        expect(len).toBeLessThanOrEqual(S3_PART_LIMITS.maxPart);
        if (i < parts.length - 1) expect(len).toBeGreaterThanOrEqual(S3_PART_LIMITS.minPart);
      });
    }
  });

  it('uses 512 MiB parts until an object needs more than 10,000 of them, then grows them', () => {
    expect(partSizeFor(6 * GiB)).toBe(512 * MiB);
    expect(planParts(6 * GiB)).toHaveLength(12);
    expect(partSizeFor(5 * 1024 * GiB)).toBeGreaterThan(512 * MiB);
    expect(planParts(5 * 1024 * GiB).length).toBeLessThanOrEqual(10_000);
  });

  it('refuses a size S3 cannot hold or that is not positive', () => {
    expect(() => planParts(0)).toThrow(/positive/);
    expect(() => planParts(5 * GiB * 10_001)).toThrow(/exceeds/);
  });
});

describe('checksums', () => {
  async function* chunks(...parts: string[]) {
    for (const p of parts) yield Buffer.from(p);
  }

  it('computes the whole-object SHA-256 across chunk boundaries', async () => {
    const want = createHash('sha256').update('hello world').digest('base64');
    expect(await sha256OfStream(chunks('hel', 'lo w', 'orld'))).toEqual({ sha256: want, size: 11 });
  });

  it('computes S3 composite checksums over parts of the given size', async () => {
    const d = (s: string) => createHash('sha256').update(s).digest();
    const want = `${createHash('sha256')
      .update(Buffer.concat([d('abcd'), d('efgh'), d('ij')]))
      .digest('base64')}-3`;
    expect((await sha256OfStream(chunks('abc', 'defghi', 'j'), 4)).sha256).toBe(want);
  });
});

describe('sampling and lifecycle', () => {
  it('samples n distinct entries in manifest order, the same for the same seed', () => {
    const all = Array.from({ length: 100 }, (_, i) => i);
    const s = sampleEntries(all, 10, 42);
    expect(new Set(s).size).toBe(10);
    expect([...s].sort((a, b) => a - b)).toEqual(s);
    expect(sampleEntries(all, 10, 42)).toEqual(s);
    expect(sampleEntries(all, 500)).toHaveLength(100);
  });

  it('expires noncurrent content versions past the generations kept, by age and by count', () => {
    const rules = contentLifecycleRules(loadPolicy());
    const app1 = rules.find((r) => r.Id === 'content-app1-images-noncurrent');
    expect(app1).toMatchObject({
      Prefix: 'content/app1-images/objects/',
      NoncurrentVersionExpiration: { NoncurrentDays: 16, NewerNoncurrentVersions: 7 },
    });
    expect(
      rules.filter((r) => r.ExpirationInDays !== undefined).every((r) => r.Prefix?.includes('/work/')),
    ).toBe(true);
  });
});

describe('content versions under the lifecycle, after days of failed runs', () => {
  /**
   * S3's NoncurrentVersionExpiration (S3 user guide, "Lifecycle configuration
   * elements"): a noncurrent version goes once it has been noncurrent for
   * NoncurrentDays and at least NewerNoncurrentVersions newer noncurrent
   * versions exist. `versions` newest first: [current, …noncurrent].
   */
  function expiredOn(
    rule: { NoncurrentDays: number; NewerNoncurrentVersions?: number },
    versions: { id: string; noncurrentSince?: number }[],
    day: number,
  ): string[] {
    return versions
      .slice(1)
      .filter(
        (v, newer) =>
          newer >= (rule.NewerNoncurrentVersions ?? 0) &&
          day - (v.noncurrentSince ?? day) >= rule.NoncurrentDays,
      )
      .map((v) => v.id);
  }

  it('never expires a version a kept generation names, whatever how long runs failed', () => {
    const policy = loadPolicy();
    const source = policy.content[0];
    if (!source) throw new Error('the reference policy has content');
    const rule = contentLifecycleRules(policy).find((r) => r.Id === `content-${source.name}-noncurrent`);
    const expiration = rule?.NoncurrentVersionExpiration;
    if (!expiration) throw new Error('no noncurrent expiration');
    // Ten good days, each writing a new version of the same key; then 30 days where every run fails.
    const versions: { id: string; noncurrentSince?: number }[] = [];
    const generations: { day: number; version: string }[] = [];
    for (let day = 0; day < 10; day++) {
      if (versions[0]) versions[0].noncurrentSince = day;
      versions.unshift({ id: `v${day}` });
      generations.unshift({ day, version: `v${day}` });
    }
    // Pruning keeps the newest `generations` complete generations: failed runs add none and prune none.
    const kept = generations.slice(0, source.generations).map((g) => g.version);
    for (let day = 10; day < 40; day++) {
      const gone = expiredOn(expiration, versions, day);
      expect(
        gone.filter((v) => kept.includes(v)),
        `day ${day}`,
      ).toEqual([]);
    }
    // What no kept generation names does go (the lifecycle still cleans up), but for one:
    // room for a version a failed run wrote after the newest kept generation.
    expect(expiredOn(expiration, versions, 39)).toEqual(['v1', 'v0']);
  });
});
