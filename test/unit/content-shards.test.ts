// Unit (content class, sharded): shard ranges, boundary picking and the
// streamed reading of gzip JSON-lines manifests that the sorted merge uses.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeManifest, type ManifestEntry } from '../../shared/domain/content.ts';
import {
  BoundaryPicker,
  inRange,
  manifestEntries,
  PreviousCursor,
  rangesOverlap,
  shardRanges,
} from '../../shared/domain/content-shards.ts';

const entry = (key: string): ManifestEntry => ({
  key,
  size: 1,
  etag: '"e"',
  sha256: 's',
  versionId: 'v',
  mtime: '2026-01-01T00:00:00.000Z',
});

async function* chunksOf(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('content shards', () => {
  it('splits the key space into contiguous ranges that cover every key once', () => {
    const ranges = shardRanges(['c', 'f']);
    expect(ranges).toEqual([
      { shard: 0, upTo: 'c' },
      { shard: 1, after: 'c', upTo: 'f' },
      { shard: 2, after: 'f' },
    ]);
    for (const k of ['a', 'c', 'd', 'f', 'g', 'zz'])
      expect(ranges.filter((r) => inRange(k, r.after, r.upTo))).toHaveLength(1);
    expect(shardRanges([])).toEqual([{ shard: 0 }]);
    expect(rangesOverlap({ shard: 0, upTo: 'c' }, { shard: 1, after: 'c' })).toBe(false);
    expect(rangesOverlap({ shard: 0, upTo: 'd' }, { shard: 1, after: 'c' })).toBe(true);
    expect(rangesOverlap({ shard: 0 }, { shard: 1, after: 'x', upTo: 'y' })).toBe(true);
  });

  it('places a boundary after every full shard, never one that leaves an empty last shard', () => {
    const p = new BoundaryPicker(2);
    for (const k of ['a', 'b', 'c', 'd']) p.add(k);
    expect(p.boundaries).toEqual(['b']);
    p.add('e');
    expect(p.boundaries).toEqual(['b', 'd']);
    // Continued in a later invocation: the waiting boundary is kept.
    const q = new BoundaryPicker(2, ['b'], 4);
    q.restoreWaiting('d');
    q.add('e');
    expect(q.boundaries).toEqual(['b', 'd']);
  });

  it('reads gzip JSON lines streamed in small pieces, across concatenated gzip members', async () => {
    const a = encodeManifest([entry('a'), entry('b')]);
    const b = encodeManifest([entry('c')]);
    const got = await collect(manifestEntries(chunksOf(Buffer.concat([a, b]), 7)));
    expect(got.map((e) => e.key)).toEqual(['a', 'b', 'c']);
    await expect(collect(manifestEntries(chunksOf(gzipSync('{"key":1}\n'), 3)))).rejects.toThrow(
      /manifest line 1: expected key, size, etag, sha256, versionId/,
    );
  });

  it('hands out the previous entries of a shard a chunk at a time and refuses an unsorted manifest', async () => {
    const body = encodeManifest(['a', 'b', 'c', 'd', 'e', 'f'].map(entry));
    const cursor = new PreviousCursor(manifestEntries(chunksOf(body, 5)), 'a', 'e');
    expect((await cursor.upTo('c')).map((e) => e.key)).toEqual(['b', 'c']);
    expect((await cursor.upTo(undefined)).map((e) => e.key)).toEqual(['d', 'e']);
    await cursor.close();

    const unsorted = new PreviousCursor(
      manifestEntries(chunksOf(encodeManifest(['b', 'a'].map(entry)), 9)),
      undefined,
      undefined,
    );
    await expect(unsorted.upTo(undefined)).rejects.toThrow(/not sorted at "a"/);
  });
});
