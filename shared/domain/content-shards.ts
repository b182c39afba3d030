// Domain (content class, at scale): a generation is a set of shard manifests
// over fixed key ranges plus an index written last. The shard plan (the range
// boundaries) is stored with the generation and carried to the next one, so
// day N and day N+1 shard alike and each shard is diffed against the same
// shard of the previous generation by a sorted merge of two streams (the
// source listing and the previous shard's gzip JSON lines): memory is bounded
// by a chunk, never by the size of the source. Pure: node:zlib/stream only.
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { compareKeys, type ManifestEntry } from './content.ts';

/** Shard i covers keys k with boundaries[i-1] < k <= boundaries[i] (open at both ends of the plan). */
export interface ShardRange {
  shard: number;
  /** Exclusive lower bound (undefined: from the first key). */
  after?: string;
  /** Inclusive upper bound (undefined: to the last key). */
  upTo?: string;
}

/** A shard manifest of a complete generation, as its index records it. */
export interface IndexedShard extends ShardRange {
  /** Vault key of the shard's gzip JSON lines. */
  key: string;
  objects: number;
  bytes: number;
  /** SHA-256 (base64) of the shard manifest's bytes: a reader checks it before trusting the lines. */
  sha256: string;
}

/** `<generation>.index.json`: the generation exists once this is written (last). */
export interface GenerationIndex {
  format: 'kura-content-index/1';
  source: string;
  generation: string;
  previous?: string;
  /** The shard plan: range boundaries (relative keys), carried to the next generation. */
  boundaries: string[];
  shards: IndexedShard[];
  objects: number;
  bytes: number;
}

export function shardRanges(boundaries: readonly string[]): ShardRange[] {
  const out: ShardRange[] = [];
  for (let i = 0; i <= boundaries.length; i++) {
    const r: ShardRange = { shard: i };
    if (i > 0) r.after = boundaries[i - 1];
    if (i < boundaries.length) r.upTo = boundaries[i];
    out.push(r);
  }
  return out;
}

/** after < key <= upTo, in S3's byte order. */
export function inRange(key: string, after: string | undefined, upTo: string | undefined): boolean {
  return (
    (after === undefined || compareKeys(key, after) > 0) &&
    (upTo === undefined || compareKeys(key, upTo) <= 0)
  );
}

/** True when two ranges share a key. */
export function rangesOverlap(a: ShardRange, b: ShardRange): boolean {
  const startsBeforeEnd = (lo: ShardRange, hi: ShardRange) =>
    lo.after === undefined || hi.upTo === undefined || compareKeys(lo.after, hi.upTo) < 0;
  return startsBeforeEnd(a, b) && startsBeforeEnd(b, a);
}

/**
 * Picks the boundaries of a plan from keys in ascending order: the last key of
 * every full shard of `shardKeys` keys, except at the very end (no empty last
 * shard). Keys come as a stream; only the count and one key are held.
 */
export class BoundaryPicker {
  readonly boundaries: string[] = [];
  private count = 0;
  private pending: string | undefined;

  constructor(
    private readonly shardKeys: number,
    initial: readonly string[] = [],
    count = 0,
  ) {
    this.boundaries.push(...initial);
    this.count = count;
  }

  add(key: string): void {
    if (this.pending !== undefined) {
      this.boundaries.push(this.pending);
      this.pending = undefined;
    }
    this.count++;
    if (this.count % this.shardKeys === 0) this.pending = key;
  }

  /** Keys seen so far (for a plan continued in a later invocation). */
  get seen(): number {
    return this.count;
  }

  /** A boundary still waiting for a next key (kept by a plan continued later). */
  get waiting(): string | undefined {
    return this.pending;
  }

  restoreWaiting(key: string | undefined): void {
    this.pending = key;
  }
}

/** Splits gzip JSON lines into manifest entries as the bytes arrive. */
export async function* manifestEntries(gzipped: AsyncIterable<Uint8Array>): AsyncGenerator<ManifestEntry> {
  const src = Readable.from(gzipped);
  const gunzip = createGunzip();
  // An error on either side destroys both, and the loop below rethrows it.
  pipeline(src, gunzip, () => {});
  let rest = '';
  let line = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) {
        line++;
        if (l.trim()) yield parseEntry(l, line);
      }
    }
    if (rest.trim()) yield parseEntry(rest, line + 1);
  } finally {
    // A reader that stops early (end of its shard) releases the connection.
    src.destroy();
    gunzip.destroy();
  }
}

function parseEntry(text: string, line: number): ManifestEntry {
  const e = JSON.parse(text) as ManifestEntry;
  if (typeof e.key !== 'string' || typeof e.versionId !== 'string' || typeof e.sha256 !== 'string') {
    throw new Error(`manifest line ${line}: expected key, size, etag, sha256, versionId`);
  }
  return e;
}

/**
 * The previous generation's entries of one shard, read in key order and
 * handed out a chunk at a time: `upTo(k)` returns the entries up to k that
 * were not returned before. Entries outside the shard are skipped; entries
 * out of order are an error (a manifest is sorted, a merge needs it).
 */
export class PreviousCursor {
  private readonly it: AsyncIterator<ManifestEntry>;
  private head: ManifestEntry | undefined;
  private done = false;
  private last: string | undefined;

  constructor(
    entries: AsyncIterable<ManifestEntry>,
    private readonly after: string | undefined,
    private readonly upToKey: string | undefined,
  ) {
    this.it = entries[Symbol.asyncIterator]();
  }

  private async peek(): Promise<ManifestEntry | undefined> {
    while (!this.head && !this.done) {
      const n = await this.it.next();
      if (n.done) {
        this.done = true;
        break;
      }
      const e = n.value;
      if (this.last !== undefined && compareKeys(e.key, this.last) <= 0)
        throw new Error(`previous manifest is not sorted at ${JSON.stringify(e.key)}`);
      this.last = e.key;
      if (!inRange(e.key, this.after, this.upToKey)) {
        // Past the shard's end: nothing more of it follows.
        if (this.upToKey !== undefined && compareKeys(e.key, this.upToKey) > 0) this.done = true;
        continue;
      }
      this.head = e;
    }
    return this.head;
  }

  /** Entries with key <= upTo (all remaining when undefined). */
  async upTo(upTo: string | undefined): Promise<ManifestEntry[]> {
    const out: ManifestEntry[] = [];
    for (;;) {
      const e = await this.peek();
      if (!e || (upTo !== undefined && compareKeys(e.key, upTo) > 0)) return out;
      out.push(e);
      this.head = undefined;
    }
  }

  /** Stops reading (the rest of the stream is left unread). */
  async close(): Promise<void> {
    this.done = true;
    await this.it.return?.();
  }
}

/** Chains several sorted entry streams (consecutive shards) into one. */
export async function* concatEntries(
  sources: readonly (() => AsyncIterable<ManifestEntry>)[],
): AsyncGenerator<ManifestEntry> {
  for (const s of sources) yield* s();
}

/** What a shard (and, summed, a generation) listed, copied and kept. */
export interface ShardCounts {
  listed: number;
  copied: number;
  copiedBytes: number;
  reused: number;
  unchanged: number;
  deleted: number;
  archivedCount: number;
  /** Versions carried from older generations whose lock was lengthened (content-locks.ts). */
  locksExtended?: number;
}

/** The summary a finished generation writes beside its index. */
export interface GenerationSummary extends Omit<ShardCounts, 'archivedCount'> {
  generation: string;
  startedAt: string;
  previous?: string;
  archivedCount?: number;
  archived?: string[];
  source: string;
  /** The scheduled time of the run (ISO). */
  time: string;
  sourceUrl: string;
  finishedAt: string;
  objects: number;
  bytes: number;
  shards: number;
  /** Keys deleted in the source since the previous generation (first 10,000). */
  deletedKeys: string[];
  /** The generation's index (its shard manifests). */
  manifest: string;
}
