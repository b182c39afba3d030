// Content backup, one chunk of a shard: lists up to chunkKeys source objects
// after the checkpoint, merges them with the same keys of the previous
// generation, copies what is new or changed server-side and records deletions.
import type { ContentPort } from '../../aws/content.ts';
import {
  ARCHIVE_CLASSES,
  compareKeys,
  diffChunk,
  type ListedObject,
  type ManifestEntry,
  vaultLayout,
} from '../../domain/content.ts';
import { extendedLockDays, leastCopyLockDays, locksToExtend } from '../../domain/content-locks.ts';
import type { PreviousCursor, ShardRange } from '../../domain/content-shards.ts';
import { isAwsError } from '../../runtime/aws-errors.ts';
import { inParallel } from '../../runtime/parallel.ts';
import { isContent, type SourceJob } from './job.ts';
import { KEYS_RECORDED_PER_SHARD, type ShardCheckpoint } from './types.ts';

export interface Chunk {
  finished: boolean;
  entries: ManifestEntry[];
  /** Last key listed (relative), where the next chunk starts. */
  last?: string;
}

/** Lists up to chunkKeys objects of the shard after the checkpoint, copies what changed. */
export async function copyChunk(
  job: SourceJob,
  cp: ShardCheckpoint,
  range: ShardRange,
  previous: PreviousCursor,
  atRisk: boolean,
): Promise<Chunk> {
  // The source's listing and the copies through `source` (its owning account's role, which
  // may only add under the source's vault prefix); the vault's reads, delete markers and
  // lock lengthening through `port` (kura's own role): the source role deletes nothing there.
  const { port, source, src, vault } = job;
  const listed: ListedObject[] = [];
  let truncated = true;
  let pastEnd = false;
  let last = cp.after ?? range.after;
  while (truncated && !pastEnd && listed.length < job.opts.chunkKeys) {
    const page = await source.listPage(
      src.bucket,
      src.prefix,
      last === undefined ? undefined : src.prefix + last,
      Math.min(1000, job.opts.chunkKeys - listed.length),
    );
    truncated = page.truncated && page.objects.length > 0;
    for (const o of page.objects) {
      const rel = o.key.slice(src.prefix.length);
      if (range.upTo !== undefined && compareKeys(rel, range.upTo) > 0) {
        pastEnd = true;
        break;
      }
      last = rel;
      if (isContent(rel, o.size)) listed.push({ ...o, key: rel });
    }
    // The shard's last key listed: its end is known without another page.
    if (range.upTo !== undefined && last === range.upTo) pastEnd = true;
  }
  const finished = pastEnd || !truncated;
  const prevEntries = await previous.upTo(finished ? undefined : last);
  const prevMap = new Map(prevEntries.map((e) => [e.key, e]));
  const diff = diffChunk(
    listed,
    prevMap,
    prevEntries.map((e) => e.key),
    undefined,
    undefined,
  );

  const copied: ManifestEntry[] = [];
  // What a copy made now is locked until at least (its lock is stated at the write, a moment later).
  const lockedUntil = new Date(
    job.opts.clock() + extendedLockDays(job.cfg) * 86_400_000,
  ).toISOString();
  let copiedBytes = 0;
  let reused = 0;
  const startedAt = new Date(cp.startedAt).getTime();
  // An object in an archive class cannot be copied until someone restores it in the source:
  // it is skipped and reported (the previous generation's copy, when there is one, stays in
  // this generation), never a failure of the whole source.
  const archived = new Set<string>();
  const copyable = diff.toCopy.filter((o) => !(o.storageClass && ARCHIVE_CLASSES.has(o.storageClass)));
  for (const o of diff.toCopy) if (!copyable.includes(o)) archived.add(o.key);
  await inParallel(copyable, job.opts.concurrency, async (o) => {
    const dst = { bucket: vault, key: vaultLayout.objectKey(job.cfg.name, o.key) };
    if (atRisk) {
      // This chunk may have been half done by an attempt that crashed: a
      // vault version written since the shard started is that copy.
      const h = await port.head(dst);
      if (h?.sha256 && h.lastModified.getTime() >= startedAt - 1000 && h.size === o.size) {
        copied.push({
          key: o.key,
          size: o.size,
          etag: o.etag,
          sha256: h.sha256,
          versionId: h.versionId,
          mtime: o.mtime,
          // A multipart copy is verified part by part: the part size goes into the manifest too.
          ...(h.partSize ? { partSize: h.partSize } : {}),
          // Locked from the crashed attempt's write, earlier than now, under the stride of then
          // (the policy may have changed since): recorded at the least, lengthened below if short.
          // Less a minute: the lock was stated from the writer's clock before S3 stamped the write.
          lockedUntil: new Date(
            h.lastModified.getTime() + leastCopyLockDays(job.cfg.generations) * 86_400_000 - 60_000,
          ).toISOString(),
        });
        reused++;
        return;
      }
    }
    let r: Awaited<ReturnType<ContentPort['copy']>>;
    try {
      r = await source.copy({ bucket: src.bucket, key: src.prefix + o.key }, dst, {
        ...job.opts.copy,
        ifMatch: o.etag,
        size: o.size,
      });
    } catch (err) {
      // Archived without the listing saying so (an Intelligent-Tiering archive tier).
      if (!isAwsError(err, 'invalidState')) throw err;
      archived.add(o.key);
      return;
    }
    if (r.versionId === 'null')
      throw new Error(`the vault s3://${vault}/ is not versioned; a generation needs version ids`);
    copied.push({
      key: o.key,
      size: r.size,
      etag: r.sourceEtag || o.etag,
      sha256: r.sha256,
      versionId: r.versionId,
      mtime: r.sourceMtime ?? o.mtime,
      ...(r.partSize ? { partSize: r.partSize } : {}),
      lockedUntil,
    });
    copiedBytes += r.size;
  });
  // Deleted in the source: recorded, and the vault's copy becomes a
  // noncurrent version (still in every older generation until it expires).
  await inParallel(diff.deleted, job.opts.concurrency, async (k) => {
    const key = vaultLayout.objectKey(job.cfg.name, k);
    // After a crash the marker may be there already: one is enough.
    if (atRisk && !(await port.head({ bucket: vault, key }))) return;
    await port.deleteMarker(vault, key);
  });

  const archivedKeys = [...archived].sort(compareKeys);
  const kept = archivedKeys.map((k) => prevMap.get(k)).filter((e): e is ManifestEntry => Boolean(e));
  // Versions this generation keeps referencing (unchanged, or kept while archived in the
  // source) stay locked as long as it needs them: the short ones lengthened, one request each.
  const carried = [...diff.unchanged, ...kept];
  const extend = locksToExtend(carried, new Date(job.opts.clock()), job.cfg);
  const reusedCopies = copied.filter(
    (e) => e.lockedUntil && Date.parse(e.lockedUntil) < Date.parse(lockedUntil),
  );
  const short = [
    ...extend.entries,
    ...locksToExtend(reusedCopies, new Date(job.opts.clock()), job.cfg).entries,
  ];
  if (short.length) {
    await port.extendRetention(
      short.map((e) => ({
        bucket: vault,
        key: vaultLayout.objectKey(job.cfg.name, e.key),
        versionId: e.versionId,
      })),
      job.policy.vault.objectLock.mode,
      extend.until,
    );
  }
  const until = extend.until.toISOString();
  const shortKeys = new Set(short.map((e) => e.key));
  const relock = (e: ManifestEntry): ManifestEntry =>
    shortKeys.has(e.key) ? { ...e, lockedUntil: until } : e;
  cp.locksExtended = (cp.locksExtended ?? 0) + short.length;
  cp.archived = [...cp.archived, ...archivedKeys].slice(0, KEYS_RECORDED_PER_SHARD);
  cp.archivedCount += archived.size;
  cp.deletedKeys = [...cp.deletedKeys, ...diff.deleted].slice(0, KEYS_RECORDED_PER_SHARD);
  cp.listed += listed.length;
  cp.copied += copied.length - reused;
  cp.reused += reused;
  cp.copiedBytes += copiedBytes;
  cp.unchanged += diff.unchanged.length;
  cp.deleted += diff.deleted.length;
  const entries = [...diff.unchanged.map(relock), ...copied.map(relock), ...kept.map(relock)].sort((a, b) =>
    compareKeys(a.key, b.key),
  );
  return { finished, entries, ...(last === undefined ? {} : { last }) };
}
