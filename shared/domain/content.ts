// Domain (content class): generations, manifests, the diff that makes each
// daily generation cost only what changed, and multipart copy planning. Pure:
// no AWS imports (node:zlib/crypto only for the manifest encoding and checksums).
import { extendedLockDays } from './content-locks.ts';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { localDate } from '../policy/calendar.ts';
import type { ContentSourcePolicy, Policy } from '../policy/schema.ts';
import { InputError } from '../runtime/errors.ts';
import type { LifecycleRule } from './lifecycle/index.ts';

/** One object of a generation: a line of the manifest. */
export interface ManifestEntry {
  /** The key relative to the source prefix. */
  key: string;
  size: number;
  /** The source object's ETag (quoted, as S3 returns it). */
  etag: string;
  /** SHA-256 computed by S3 on the vault copy (base64); composite ("…-N") for multipart copies. */
  sha256: string;
  /** The vault object version that holds this generation's bytes. */
  versionId: string;
  /** The source object's LastModified (ISO). */
  mtime: string;
  /** Part size for multipart copies (the composite checksum needs it). */
  partSize?: number;
  /** The retain-until kura last stated on this version (ISO; content-locks.ts); absent in older manifests. */
  lockedUntil?: string;
}

/** An object as the source listing shows it. */
export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  mtime: string;
  /** As the listing reports it (STANDARD when absent). */
  storageClass?: string;
}

/** Storage classes whose objects cannot be copied until restored (S3: InvalidObjectState). */
export const ARCHIVE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);

export interface ContentSource {
  name: string;
  bucket: string;
  prefix: string;
}

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(url);
  if (!m?.[1]) throw new Error(`not an S3 URL: ${url}`);
  return { bucket: m[1], prefix: m[2] ?? '' };
}

export function contentSource(c: ContentSourcePolicy): ContentSource {
  return { name: c.name, ...parseS3Url(c.source) };
}

/** A generation is named by its scheduled date in the policy's time zone (yyyy-mm-dd). */
export function generationName(time: Date, timeZone: string): string {
  return localDate(time, timeZone);
}

export const GENERATION_NAME = /^\d{4}-\d{2}-\d{2}$/;

// Vault layout. Objects are one key per source object (versioned: each change
// is a new version); a generation is a manifest of version ids.
export const vaultLayout = {
  objectsPrefix: (name: string) => `content/${name}/objects/`,
  objectKey: (name: string, key: string) => `content/${name}/objects/${key}`,
  generationsPrefix: (policy: Policy, name: string) =>
    `${policy.vault.manifestsPrefix}content/${name}/generations/`,
  manifestKey: (policy: Policy, name: string, generation: string) =>
    `${policy.vault.manifestsPrefix}content/${name}/generations/${generation}.jsonl.gz`,
  summaryKey: (policy: Policy, name: string, generation: string) =>
    `${policy.vault.manifestsPrefix}content/${name}/generations/${generation}.summary.json`,
  workPrefix: (policy: Policy, name: string) => `${policy.vault.manifestsPrefix}content/${name}/work/`,
  /** The generation's index (sharded layout), written last: the generation exists once it does. */
  indexKey: (policy: Policy, name: string, generation: string) =>
    `${policy.vault.manifestsPrefix}content/${name}/generations/${generation}.index.json`,
  shardKey: (policy: Policy, name: string, generation: string, shard: number) =>
    `${policy.vault.manifestsPrefix}content/${name}/generations/${generation}/shard-${String(shard).padStart(5, '0')}.jsonl.gz`,
  /** The shard plan of a generation in progress (kept in the index once complete). */
  planKey: (policy: Policy, name: string, generation: string) =>
    `${policy.vault.manifestsPrefix}content/${name}/work/${generation}/plan.json`,
  shardCheckpointKey: (policy: Policy, name: string, generation: string, shard: number) =>
    `${policy.vault.manifestsPrefix}content/${name}/work/${generation}/shard-${String(shard).padStart(5, '0')}/checkpoint.json`,
  partKey: (policy: Policy, name: string, generation: string, shard: number, seq: number) =>
    `${policy.vault.manifestsPrefix}content/${name}/work/${generation}/shard-${String(shard).padStart(5, '0')}/part-${String(seq).padStart(6, '0')}.jsonl.gz`,
};

/**
 * The generation a key of the generations prefix names when it marks a
 * complete generation (an index, or a single manifest written before sharding),
 * or undefined for other keys (summaries, shard manifests).
 */
export function generationOfManifestKey(key: string): string | undefined {
  const m = /\/(\d{4}-\d{2}-\d{2})\.(jsonl\.gz|index\.json)$/.exec(key);
  return m?.[1];
}

/** S3 lists keys in UTF-8 byte order; JavaScript compares UTF-16 units. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function encodeManifest(entries: ManifestEntry[]): Buffer {
  return gzipSync(entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : ''));
}

export function decodeManifest(body: Uint8Array): ManifestEntry[] {
  const text = gunzipSync(body).toString('utf8');
  const out: ManifestEntry[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as ManifestEntry;
    if (typeof e.key !== 'string' || typeof e.versionId !== 'string' || typeof e.sha256 !== 'string') {
      throw new Error(`manifest line ${i + 1}: expected key, size, etag, sha256, versionId`);
    }
    out.push(e);
  }
  return out;
}

export interface ChunkDiff {
  unchanged: ManifestEntry[];
  /** New or changed objects, to copy. */
  toCopy: ListedObject[];
  /** Keys of the previous generation that the source no longer has. */
  deleted: string[];
}

/**
 * Compares one page of the source listing with the previous generation over
 * the key range (after, upTo]; upTo undefined means "to the end". An object is
 * unchanged when its ETag, size and LastModified all match the previous entry.
 */
export function diffChunk(
  listed: ListedObject[],
  previous: ReadonlyMap<string, ManifestEntry>,
  previousKeysSorted: readonly string[],
  after: string | undefined,
  upTo: string | undefined,
): ChunkDiff {
  const unchanged: ManifestEntry[] = [];
  const toCopy: ListedObject[] = [];
  const seen = new Set<string>();
  for (const o of listed) {
    seen.add(o.key);
    const prev = previous.get(o.key);
    if (prev && prev.etag === o.etag && prev.size === o.size && prev.mtime === o.mtime) unchanged.push(prev);
    else toCopy.push(o);
  }
  const deleted: string[] = [];
  for (const k of keysInRange(previousKeysSorted, after, upTo)) if (!seen.has(k)) deleted.push(k);
  return { unchanged, toCopy, deleted };
}

/** Keys k with after < k <= upTo (byte order), from a sorted list. */
export function keysInRange(
  sorted: readonly string[],
  after: string | undefined,
  upTo: string | undefined,
): string[] {
  let lo = 0;
  if (after !== undefined) {
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(sorted[mid] as string, after) <= 0) lo = mid + 1;
      else hi = mid;
    }
  }
  const out: string[] = [];
  for (let i = lo; i < sorted.length; i++) {
    const k = sorted[i] as string;
    if (upTo !== undefined && compareKeys(k, upTo) > 0) break;
    out.push(k);
  }
  return out;
}

// Multipart copy. CopyObject copies up to 5 GiB; larger objects are copied in
// parts with UploadPartCopy: at most 10,000 parts of 5 MiB … 5 GiB each.
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const COPY_OBJECT_MAX = 5 * GiB;

export interface PartPlan {
  partNumber: number;
  /** Inclusive byte range, as x-amz-copy-source-range wants it. */
  first: number;
  last: number;
}

export interface PartLimits {
  minPart: number;
  maxPart: number;
  maxParts: number;
  preferredPart: number;
}

export const S3_PART_LIMITS: PartLimits = {
  minPart: 5 * MiB,
  maxPart: 5 * GiB,
  maxParts: 10_000,
  preferredPart: 512 * MiB,
};

/** The part size for an object: the preferred size, grown (in whole MiB) until 10,000 parts suffice. */
export function partSizeFor(size: number, limits: PartLimits = S3_PART_LIMITS): number {
  if (size > limits.maxPart * limits.maxParts) {
    throw new Error(
      `object of ${size} bytes exceeds the S3 maximum of ${limits.maxPart * limits.maxParts} bytes`,
    );
  }
  let part = Math.max(limits.minPart, limits.preferredPart);
  const needed = Math.ceil(size / limits.maxParts);
  if (needed > part) part = Math.ceil(needed / MiB) * MiB;
  return Math.min(part, limits.maxPart);
}

export function planParts(size: number, limits: PartLimits = S3_PART_LIMITS): PartPlan[] {
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new Error(`expected a positive object size, found ${size}`);
  const part = partSizeFor(size, limits);
  const out: PartPlan[] = [];
  for (let first = 0, n = 1; first < size; first += part, n++) {
    out.push({ partNumber: n, first, last: Math.min(first + part, size) - 1 });
  }
  return out;
}

/** S3's composite checksum of a multipart object: SHA-256 over the parts' SHA-256 digests, "-<parts>". */
export function compositeSha256(partDigests: Buffer[]): string {
  const h = createHash('sha256');
  for (const d of partDigests) h.update(d);
  return `${h.digest('base64')}-${partDigests.length}`;
}

/** SHA-256 of a stream: whole-object, or S3's composite over parts of `partSize`. */
export async function sha256OfStream(
  chunks: AsyncIterable<Uint8Array>,
  partSize?: number,
): Promise<{ sha256: string; size: number }> {
  let size = 0;
  if (!partSize) {
    const h = createHash('sha256');
    for await (const c of chunks) {
      h.update(c);
      size += c.length;
    }
    return { sha256: h.digest('base64'), size };
  }
  const digests: Buffer[] = [];
  let h = createHash('sha256');
  let inPart = 0;
  for await (const c of chunks) {
    let buf = Buffer.from(c);
    size += buf.length;
    while (buf.length > 0) {
      const take = Math.min(partSize - inPart, buf.length);
      h.update(buf.subarray(0, take));
      inPart += take;
      buf = buf.subarray(take);
      if (inPart === partSize) {
        digests.push(h.digest());
        h = createHash('sha256');
        inPart = 0;
      }
    }
  }
  if (inPart > 0) digests.push(h.digest());
  return { sha256: compositeSha256(digests), size };
}

/** Picks n entries spread over the manifest, deterministic for a seed (a verify is reproducible). */
export function sampleEntries<T>(entries: readonly T[], n: number, seed = 1): T[] {
  if (n >= entries.length) return [...entries];
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4_294_967_296;
  };
  const idx = entries.map((_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  return idx
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => entries[i] as T);
}

/**
 * Lifecycle rules for the content class. A version of an object becomes
 * noncurrent on the day a newer copy is written; the last generation that
 * references it is the previous day's, which falls out of the `generations`
 * kept that many days later. One day of slack covers a late run.
 * Manifests are pruned by the backup itself (never fewer than `generations`),
 * so a stopped schedule never expires the last complete generation.
 */
export function contentLifecycleRules(policy: Policy): LifecycleRule[] {
  return policy.content.flatMap((c) => [
    {
      Id: `content-${c.name}-noncurrent`,
      Status: 'Enabled' as const,
      Prefix: vaultLayout.objectsPrefix(c.name),
      // Age alone is not enough: when runs fail for days, the generations kept grow old, and
      // their versions with them. A generation writes at most one version of a key, so the
      // kept generations reference none but the newest `generations` versions of any key.
      // Not sooner than its lock ends: a version is locked up to two terms from its last
      // statement (content-locks.ts), made while it was current.
      NoncurrentVersionExpiration: {
        NoncurrentDays: extendedLockDays(c),
        NewerNoncurrentVersions: c.generations,
      },
      Why: `content ${c.name}: a replaced or deleted object's old version goes once it is older than ${extendedLockDays(c)} days (when its Object Lock, lengthened while generations referenced it, has surely ended) and ${c.generations} newer versions replaced it, so no kept generation (at most one version of a key each) can point at an expired one, however long runs failed`,
    },
    {
      Id: `content-${c.name}-pruned-manifests`,
      Status: 'Enabled' as const,
      Prefix: vaultLayout.generationsPrefix(policy, c.name),
      // Not sooner: each manifest is locked generations + 1 days from its write (vault-retention.ts).
      NoncurrentVersionExpiration: { NoncurrentDays: c.generations + 1 },
      Why: `content ${c.name}: manifests of generations pruned beyond the ${c.generations} kept go ${c.generations + 1} days later, when their Object Lock has ended`,
    },
    {
      Id: `content-${c.name}-work`,
      Status: 'Enabled' as const,
      Prefix: vaultLayout.workPrefix(policy, c.name),
      ExpirationInDays: 3,
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      Why: `content ${c.name}: checkpoint parts of runs in progress are needed only until their manifest is written`,
    },
  ]);
}

/** A content source of the policy by name, or an InputError naming the known ones. */
export function findSource(policy: Policy, name: string): ContentSourcePolicy {
  const c = policy.content.find((s) => s.name === name);
  if (!c) {
    const known = policy.content.map((s) => s.name).join(', ') || '(none)';
    throw new InputError([
      `--source: no content source named "${name}" in the policy; expected one of ${known}`,
    ]);
  }
  return c;
}
