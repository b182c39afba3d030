// Use case (content class): one generation per source per scheduled day, at
// any size, in three steps. The content-backup state machine runs them as
// Plan, a Distributed Map of shards, and Finish; `contentBackup` runs the same
// steps in-process (kura invoke, tests, benchmarks).
//  - plan: the shard plan (key-range boundaries) is the previous generation's
//    (so day N+1 shards like day N, and each shard meets the same shard of
//    the previous generation), a shard that outgrew it split in two or more;
//    a first generation lists the source once to place the boundaries. The
//    plan is saved in the vault before any copy.
//  - shard: lists its key range and merges it with the same range of the
//    previous generation (two sorted streams: the listing and gzip JSON
//    lines), copies only new or changed objects server-side, and writes its
//    shard manifest. Work goes in chunks with a checkpoint after each, so a
//    slice that hits its time budget (or crashes) continues where it stopped.
//  - finish: writes the summary, then the generation's index, last: a
//    generation exists only when every shard of it is complete.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ContentPort, CopyOptions } from '../aws/content.ts';
import { inParallel } from '../aws/content.ts';
import { listGenerations, readIndex } from '../aws/content-generations.ts';
import { isAwsError } from '../aws/errors.ts';
import {
  ARCHIVE_CLASSES,
  type ContentSource,
  compareKeys,
  contentSource,
  findSource,
  diffChunk,
  encodeManifest,
  GENERATION_NAME,
  generationName,
  type ListedObject,
  type ManifestEntry,
  vaultLayout,
} from '../domain/content.ts';
import {
  BoundaryPicker,
  type GenerationIndex,
  type GenerationSummary,
  type IndexedShard,
  manifestEntries,
  PreviousCursor,
  rangesOverlap,
  type ShardCounts,
  type ShardRange,
  shardRanges,
} from '../domain/content-shards.ts';
import { planPruning } from '../domain/retention.ts';
import { managedTags } from '../domain/tags.ts';
import type { ContentSourcePolicy, Policy } from '../policy/schema.ts';
import { InputError } from '../runtime/errors.ts';
import { forEachTarget, type MetricPoint, type RunResult, type TargetOutcome } from '../runtime/result.ts';

export const FUNCTION_NAME = 'content-backup';

export interface ContentBackupOptions {
  /** Stop starting new chunks after this many ms (the Lambda has 15 minutes; the loop continues). */
  budgetMs?: number;
  /** Source keys per chunk (one part file and one checkpoint per chunk). */
  chunkKeys?: number;
  /** Copies in flight (per shard). */
  concurrency?: number;
  /** Keys per shard of a new plan; a shard grown past twice this is split in the next plan. */
  shardKeys?: number;
  /** Shards run at once in-process (the state machine's Map has its own MaxConcurrency). */
  shardConcurrency?: number;
  /** Only these sources (names). */
  sources?: string[];
  copy?: Pick<CopyOptions, 'multipartThreshold' | 'partLimits'>;
  /** Wall clock for the budget (ms). Never used for naming: that comes from the event. */
  clock?: () => number;
}

type Options = Required<Omit<ContentBackupOptions, 'sources' | 'copy'>> & Pick<ContentBackupOptions, 'copy'>;

/** A previous generation's manifest that a shard of the new one reads its range from. */
export interface PreviousShard extends Omit<ShardRange, 'shard'> {
  key: string;
}

/** `work/<generation>/plan.json`: written before the first copy, read by every step. */
export interface GenerationPlan {
  format: 'kura-content-plan/1';
  source: string;
  generation: string;
  /** Wall-clock time the generation's plan was made (ISO). */
  startedAt: string;
  previous?: string;
  /** The previous generation's manifests with their key ranges (one unbounded range for a single manifest). */
  previousShards: PreviousShard[];
  /** Shard i covers boundaries[i-1] < key <= boundaries[i]. */
  boundaries: string[];
  /** False while a first plan still lists the source (continued by the next invocation). */
  complete: boolean;
  listing?: { after?: string; seen: number; waiting?: string };
}

/** Saved in the vault after every chunk of a shard; read back by the next invocation and by finish. */
export interface ShardCheckpoint extends ShardCounts {
  shard: number;
  /** Wall-clock time the shard's first invocation started (ISO): vault copies since then are this shard's. */
  startedAt: string;
  /** Last source key (relative) whose chunk is recorded in a part. */
  after?: string;
  parts: number;
  /** Keys deleted in the source (the first ones), and archived ones not copied. */
  deletedKeys: string[];
  archived: string[];
  /** A slice stopped here at its time budget, before starting the next chunk. */
  stopped?: boolean;
  /** Set when the shard manifest is written. */
  done?: Omit<IndexedShard, 'shard' | 'after' | 'upTo'>;
}

export interface ContentRunResult extends RunResult {
  generation: string;
  /** True when every selected source has a complete generation for this date (for a step: that step is done). */
  complete: boolean;
}

/** One child of the state machine's Map: a shard of a source's plan. */
export interface ShardItem {
  source: string;
  shard: number;
}

export interface ContentPlanResult extends ContentRunResult {
  /** Shards to run, when `complete` (every selected source planned). */
  items: ShardItem[];
}

const DEFAULTS = {
  budgetMs: 600_000,
  chunkKeys: 10_000,
  concurrency: 32,
  shardKeys: 100_000,
  shardConcurrency: 4,
};
const DELETED_KEYS_RECORDED = 10_000;
/** Per shard, in its checkpoint (the summary takes the first 10,000 over all shards). */
const KEYS_RECORDED_PER_SHARD = 1_000;

export {
  generationManifests,
  listGenerations,
  readIndex,
  readManifest,
  streamManifests,
} from '../aws/content-generations.ts';
export { findSource } from '../domain/content.ts';
export type { GenerationSummary } from '../domain/content-shards.ts';

/** Another invocation wrote the checkpoint, plan or index this one was about to write (a duplicate delivery). */
class ConcurrentRunError extends Error {
  override name = 'ConcurrentRunError';
}

/**
 * A conditional write (If-Match, If-None-Match) of `body`. A failed condition
 * means another run got there first, unless the object now holds exactly these
 * bytes: then the write was this run's and only its answer was lost (the SDK
 * retried a request S3 had applied), and the run carries on.
 */
async function conditionalPut(
  port: ContentPort,
  what: string,
  bucket: string,
  key: string,
  body: string,
  opts: { contentType: string; tags?: Record<string, string>; ifMatch?: string; ifNoneMatch?: '*' },
): Promise<{ etag?: string }> {
  try {
    return await port.put(bucket, key, body, opts);
  } catch (err) {
    if (!isAwsError(err, 'preconditionFailed')) throw err;
    const now = await port.getWithEtag({ bucket, key });
    if (now && now.body.toString('utf8') === body) return { etag: now.etag };
    throw new ConcurrentRunError(what);
  }
}

const json = (body: Buffer) => JSON.parse(body.toString('utf8'));
const shardLabel = (n: number) => `shard ${n}`;

interface Chunk {
  finished: boolean;
  entries: ManifestEntry[];
  /** Last key listed (relative), where the next chunk starts. */
  last?: string;
}

/** One source's generation for one scheduled time: the three steps. */
class SourceJob {
  readonly generation: string;
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read through destructuring
  private readonly src: ContentSource;

  constructor(
    private readonly policy: Policy,
    private readonly cfg: ContentSourcePolicy,
    private readonly port: ContentPort,
    private readonly opts: Options,
    private readonly started: number,
    private readonly time: Date,
  ) {
    this.generation = generationName(time, policy.timezone);
    this.src = contentSource(cfg);
  }

  private get vault(): string {
    return this.policy.vault.bucket;
  }

  private budgetLeft(): boolean {
    return this.opts.clock() - this.started < this.opts.budgetMs;
  }

  private async isComplete(): Promise<boolean> {
    return Boolean(
      await this.port.head({
        bucket: this.vault,
        key: vaultLayout.indexKey(this.policy, this.cfg.name, this.generation),
      }),
    );
  }

  private async alreadyComplete(outcome: TargetOutcome): Promise<void> {
    outcome.status = 'skipped';
    outcome.actions.push(`generation ${this.generation} is already complete`);
    outcome.complete = true;
    // A run that stopped after the index but before pruning prunes now (idempotent).
    const pruned = await this.prune(await listGenerations(this.port, this.policy, this.cfg.name));
    if (pruned.length) outcome.pruned = pruned;
  }

  /** True (and the outcome says so, after pruning) when the generation is listed as complete. */
  async completedEarlier(outcome: TargetOutcome): Promise<boolean> {
    outcome.generation = this.generation;
    if (!(await listGenerations(this.port, this.policy, this.cfg.name)).includes(this.generation))
      return false;
    await this.alreadyComplete(outcome);
    return true;
  }

  async readPlan(): Promise<{ plan: GenerationPlan; etag: string } | undefined> {
    const saved = await this.port.getWithEtag({
      bucket: this.vault,
      key: vaultLayout.planKey(this.policy, this.cfg.name, this.generation),
    });
    return saved ? { plan: json(saved.body) as GenerationPlan, etag: saved.etag } : undefined;
  }

  /** The generation's plan, made or continued; undefined when the generation is already complete. */
  async plan(outcome: TargetOutcome): Promise<GenerationPlan | undefined> {
    const { policy, port, cfg, generation } = this;
    outcome.generation = generation;
    const planKey = vaultLayout.planKey(policy, cfg.name, generation);
    const saved = await this.readPlan();
    let plan: GenerationPlan;
    if (saved) {
      plan = saved.plan;
      if (plan.complete) {
        if (await this.isComplete()) {
          await this.alreadyComplete(outcome);
          return undefined;
        }
        return plan;
      }
    } else {
      const kept = await listGenerations(port, policy, cfg.name);
      if (kept.includes(generation)) {
        await this.alreadyComplete(outcome);
        return undefined;
      }
      plan = {
        format: 'kura-content-plan/1',
        source: cfg.name,
        generation,
        startedAt: new Date(this.opts.clock()).toISOString(),
        previous: kept.find((g) => g < generation),
        previousShards: [],
        boundaries: [],
        complete: false,
      };
      if (plan.previous) await this.planFromPrevious(plan, plan.previous);
    }
    if (!plan.complete) await this.planByListing(plan);
    // Saved before the first copy; a plan made by another invocation meanwhile is never replaced.
    await conditionalPut(
      port,
      `generation ${generation} was planned by another run`,
      this.vault,
      planKey,
      JSON.stringify(plan),
      {
        contentType: 'application/json',
        ...(saved ? { ifMatch: saved.etag } : { ifNoneMatch: '*' as const }),
      },
    );
    outcome.shards = plan.boundaries.length + 1;
    outcome.actions.push(
      plan.complete
        ? `generation ${generation}: ${plan.boundaries.length + 1} shard(s)${plan.previous ? ` against ${plan.previous}` : ''}`
        : `generation ${generation}: planning, ${plan.listing?.seen ?? 0} keys listed so far`,
    );
    return plan;
  }

  /** The previous generation's plan, carried over; a shard that grew past 2 x shardKeys is split. */
  private async planFromPrevious(plan: GenerationPlan, previous: string): Promise<void> {
    const { policy, port, cfg, opts } = this;
    const index = await readIndex(port, policy, cfg.name, previous);
    if (!index) {
      // A generation written as one manifest (before sharding): the plan comes from its keys.
      const key = vaultLayout.manifestKey(policy, cfg.name, previous);
      plan.previousShards = [{ key }];
      const picker = new BoundaryPicker(opts.shardKeys);
      for await (const e of manifestEntries(port.read({ bucket: this.vault, key }))) picker.add(e.key);
      plan.boundaries = picker.boundaries;
      plan.complete = true;
      return;
    }
    plan.previousShards = index.shards.map(({ key, after, upTo }) => ({
      key,
      ...(after === undefined ? {} : { after }),
      ...(upTo === undefined ? {} : { upTo }),
    }));
    const boundaries: string[] = [];
    for (const s of index.shards) {
      if (s.objects > 2 * opts.shardKeys) {
        const picker = new BoundaryPicker(opts.shardKeys);
        for await (const e of manifestEntries(port.read({ bucket: this.vault, key: s.key })))
          picker.add(e.key);
        boundaries.push(...picker.boundaries);
      }
      if (s.upTo !== undefined) boundaries.push(s.upTo);
    }
    plan.boundaries = boundaries;
    plan.complete = true;
  }

  /** A first generation: one listing of the source places a boundary every shardKeys keys. */
  private async planByListing(plan: GenerationPlan): Promise<void> {
    const { port, src } = this;
    const picker = new BoundaryPicker(this.opts.shardKeys, plan.boundaries, plan.listing?.seen ?? 0);
    picker.restoreWaiting(plan.listing?.waiting);
    let after = plan.listing?.after;
    for (let first = true; ; first = false) {
      if (!first && !this.budgetLeft()) {
        plan.boundaries = [...picker.boundaries];
        plan.listing = { seen: picker.seen, ...(after === undefined ? {} : { after }) };
        if (picker.waiting !== undefined) plan.listing.waiting = picker.waiting;
        return;
      }
      const page = await port.listPage(
        src.bucket,
        src.prefix,
        after === undefined ? undefined : src.prefix + after,
        1000,
      );
      for (const o of page.objects) {
        const rel = o.key.slice(src.prefix.length);
        if (isContent(rel, o.size)) picker.add(rel);
      }
      const last = page.objects.at(-1)?.key;
      if (last !== undefined) after = last.slice(src.prefix.length);
      if (!page.truncated || last === undefined) break;
    }
    plan.boundaries = [...picker.boundaries];
    plan.complete = true;
    delete plan.listing;
  }

  /** Runs or continues one shard; true when its shard manifest exists. */
  async shard(plan: GenerationPlan, n: number, outcome: TargetOutcome): Promise<boolean> {
    const { policy, port, cfg, generation } = this;
    const range = shardRanges(plan.boundaries)[n];
    if (!range)
      throw new InputError([
        `item.shard: ${n} is not a shard of generation ${generation} of ${cfg.name}; expected 0 to ${plan.boundaries.length}`,
      ]);
    const cpKey = vaultLayout.shardCheckpointKey(policy, cfg.name, generation, n);
    const saved = await port.getWithEtag({ bucket: this.vault, key: cpKey });
    let etag = saved?.etag ?? '';
    let cp: ShardCheckpoint;
    if (saved) {
      cp = json(saved.body) as ShardCheckpoint;
      if (cp.done) return true;
      outcome.actions.push(
        `continued ${shardLabel(n)} of ${generation} after ${cp.after ?? range.after ?? '(start)'} (${cp.parts} parts done)`,
      );
    } else {
      cp = {
        shard: n,
        startedAt: new Date(this.opts.clock()).toISOString(),
        parts: 0,
        listed: 0,
        copied: 0,
        copiedBytes: 0,
        reused: 0,
        unchanged: 0,
        deleted: 0,
        archivedCount: 0,
        deletedKeys: [],
        archived: [],
      };
      // Saved before the first copy, so that a crash in the first chunk is
      // recognised on retry (copies made after startedAt are reused). Only if
      // no other invocation started this shard meanwhile.
      const first = JSON.stringify(cp);
      etag =
        (
          await conditionalPut(
            port,
            `generation ${generation} was started by another run`,
            this.vault,
            cpKey,
            first,
            { contentType: 'application/json', ifNoneMatch: '*' },
          )
        ).etag ?? '';
    }
    const saveCheckpoint = async () => {
      // Only if the checkpoint is still the one this run read: a second invocation of the
      // same shard (a duplicate delivery) that moved it on keeps going, this one stops.
      const body = JSON.stringify(cp);
      etag =
        (
          await conditionalPut(
            port,
            `generation ${generation} was continued by another run`,
            this.vault,
            cpKey,
            body,
            { contentType: 'application/json', ifMatch: etag },
          )
        ).etag ?? '';
    };
    // A slice that stopped at its budget said so: nothing of its next chunk was copied. Any
    // other checkpoint may be followed by a crashed chunk, whose copies are looked for.
    let atRisk = saved !== undefined && !cp.stopped;
    if (cp.stopped) {
      delete cp.stopped;
      await saveCheckpoint();
    }
    const resumeAfter = cp.after ?? range.after;
    const cursor = new PreviousCursor(this.previousEntries(plan, range), resumeAfter, range.upTo);
    try {
      for (let first = true; ; first = false) {
        if (!first && !this.budgetLeft()) {
          cp.stopped = true;
          await saveCheckpoint();
          outcome.actions.push(
            `${shardLabel(n)}: time budget reached after ${cp.parts} parts; continues after ${cp.after}`,
          );
          return false;
        }
        const chunk = await this.chunk(cp, range, cursor, atRisk);
        atRisk = false;
        if (chunk.finished) {
          cp.done = await this.writeShardManifest(cp, chunk.entries);
          await saveCheckpoint();
          return true;
        }
        const seq = cp.parts + 1;
        await port.put(
          this.vault,
          vaultLayout.partKey(policy, cfg.name, generation, n, seq),
          encodeManifest(chunk.entries),
          { contentType: 'application/gzip' },
        );
        cp.parts = seq;
        cp.after = chunk.last;
        await saveCheckpoint();
      }
    } finally {
      await cursor.close();
    }
  }

  /** The previous generation's entries that may fall in `range`, in key order. */
  private async *previousEntries(plan: GenerationPlan, range: ShardRange): AsyncGenerator<ManifestEntry> {
    for (const p of plan.previousShards) {
      if (!rangesOverlap({ shard: 0, ...p }, range)) continue;
      yield* manifestEntries(this.port.read({ bucket: this.vault, key: p.key }));
    }
  }

  /** Lists up to chunkKeys objects of the shard after the checkpoint, copies what changed. */
  private async chunk(
    cp: ShardCheckpoint,
    range: ShardRange,
    previous: PreviousCursor,
    atRisk: boolean,
  ): Promise<Chunk> {
    const { port, src, vault } = this;
    const listed: ListedObject[] = [];
    let truncated = true;
    let pastEnd = false;
    let last = cp.after ?? range.after;
    while (truncated && !pastEnd && listed.length < this.opts.chunkKeys) {
      const page = await port.listPage(
        src.bucket,
        src.prefix,
        last === undefined ? undefined : src.prefix + last,
        Math.min(1000, this.opts.chunkKeys - listed.length),
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
    let copiedBytes = 0;
    let reused = 0;
    const startedAt = new Date(cp.startedAt).getTime();
    // An object in an archive class cannot be copied until someone restores it in the source:
    // it is skipped and reported (the previous generation's copy, when there is one, stays in
    // this generation), never a failure of the whole source.
    const archived = new Set<string>();
    const copyable = diff.toCopy.filter((o) => !(o.storageClass && ARCHIVE_CLASSES.has(o.storageClass)));
    for (const o of diff.toCopy) if (!copyable.includes(o)) archived.add(o.key);
    await inParallel(copyable, this.opts.concurrency, async (o) => {
      const dst = { bucket: vault, key: vaultLayout.objectKey(this.cfg.name, o.key) };
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
          });
          reused++;
          return;
        }
      }
      let r: Awaited<ReturnType<ContentPort['copy']>>;
      try {
        r = await port.copy({ bucket: src.bucket, key: src.prefix + o.key }, dst, {
          ...this.opts.copy,
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
      });
      copiedBytes += r.size;
    });
    // Deleted in the source: recorded, and the vault's copy becomes a
    // noncurrent version (still in every older generation until it expires).
    await inParallel(diff.deleted, this.opts.concurrency, async (k) => {
      const key = vaultLayout.objectKey(this.cfg.name, k);
      // After a crash the marker may be there already: one is enough.
      if (atRisk && !(await port.head({ bucket: vault, key }))) return;
      await port.deleteMarker(vault, key);
    });

    const archivedKeys = [...archived].sort(compareKeys);
    const kept = archivedKeys.map((k) => prevMap.get(k)).filter((e): e is ManifestEntry => Boolean(e));
    cp.archived = [...cp.archived, ...archivedKeys].slice(0, KEYS_RECORDED_PER_SHARD);
    cp.archivedCount += archived.size;
    cp.deletedKeys = [...cp.deletedKeys, ...diff.deleted].slice(0, KEYS_RECORDED_PER_SHARD);
    cp.listed += listed.length;
    cp.copied += copied.length - reused;
    cp.reused += reused;
    cp.copiedBytes += copiedBytes;
    cp.unchanged += diff.unchanged.length;
    cp.deleted += diff.deleted.length;
    const entries = [...diff.unchanged, ...copied, ...kept].sort((a, b) => compareKeys(a.key, b.key));
    return { finished, entries, ...(last === undefined ? {} : { last }) };
  }

  /**
   * The shard manifest: its parts in order, then the last chunk (still in
   * memory), as one gzip JSON-lines object. Only the compressed bytes of one
   * shard are held, however large the source.
   */
  private async writeShardManifest(
    cp: ShardCheckpoint,
    lastChunk: ManifestEntry[],
  ): Promise<NonNullable<ShardCheckpoint['done']>> {
    const { policy, port, cfg, generation } = this;
    const lines: string[] = [];
    const gz: Buffer[] = [];
    let objects = 0;
    let bytes = 0;
    let previousKey: string | undefined;
    const add = (e: ManifestEntry) => {
      // Parts are disjoint key ranges in order; a duplicate would mean a bug, never a silent double.
      if (previousKey !== undefined && compareKeys(previousKey, e.key) >= 0)
        throw new Error(`generation ${generation}: parts overlap at ${e.key}; not writing a manifest`);
      previousKey = e.key;
      objects++;
      bytes += e.size;
      lines.push(JSON.stringify(e));
    };
    // Each part is its own gzip member: concatenated members are one valid gzip stream.
    const flush = () => {
      if (lines.length) gz.push(gzipSync(`${lines.join('\n')}\n`));
      lines.length = 0;
    };
    for (let seq = 1; seq <= cp.parts; seq++) {
      const key = vaultLayout.partKey(policy, cfg.name, generation, cp.shard, seq);
      for await (const e of manifestEntries(port.read({ bucket: this.vault, key }))) add(e);
      flush();
    }
    for (const e of lastChunk) add(e);
    flush();
    const body = Buffer.concat(gz);
    const key = vaultLayout.shardKey(policy, cfg.name, generation, cp.shard);
    await port.put(this.vault, key, body, { contentType: 'application/gzip' });
    return { key, objects, bytes, sha256: createHash('sha256').update(body).digest('base64') };
  }

  /** Writes the summary and then the index (last); prunes. */
  async finish(plan: GenerationPlan, outcome: TargetOutcome, planChecked = false): Promise<void> {
    const { policy, port, cfg, generation, vault } = this;
    outcome.generation = generation;
    // A separate finish step may be a retry after the index was written; right after
    // planning in the same invocation the plan step has just looked.
    if (!planChecked && (await this.isComplete())) {
      await this.alreadyComplete(outcome);
      return;
    }
    const ranges = shardRanges(plan.boundaries);
    const cps: ShardCheckpoint[] = [];
    await inParallel(ranges, 16, async (r) => {
      const body = await port.get({
        bucket: vault,
        key: vaultLayout.shardCheckpointKey(policy, cfg.name, generation, r.shard),
      });
      const cp = body ? (json(body) as ShardCheckpoint) : undefined;
      if (!cp?.done)
        throw new Error(
          `generation ${generation} of ${cfg.name}: ${shardLabel(r.shard)} of ${ranges.length} is not complete; not writing the index`,
        );
      cps[r.shard] = cp;
    });
    const shards: IndexedShard[] = ranges.map((r) => ({ ...r, ...(cps[r.shard]?.done as IndexedShard) }));
    const sum = (k: keyof ShardCounts) => cps.reduce((n, c) => n + c[k], 0);
    const counts = {
      listed: sum('listed'),
      copied: sum('copied'),
      copiedBytes: sum('copiedBytes'),
      reused: sum('reused'),
      unchanged: sum('unchanged'),
      deleted: sum('deleted'),
    };
    const archivedCount = sum('archivedCount');
    const archived = cps.flatMap((c) => c.archived).slice(0, DELETED_KEYS_RECORDED);
    const objects = shards.reduce((n, s) => n + s.objects, 0);
    const bytes = shards.reduce((n, s) => n + s.bytes, 0);
    const indexKey = vaultLayout.indexKey(policy, cfg.name, generation);
    const summary: GenerationSummary = {
      generation,
      startedAt: plan.startedAt,
      ...(plan.previous ? { previous: plan.previous } : {}),
      ...counts,
      ...(archivedCount ? { archivedCount, archived } : {}),
      source: cfg.name,
      time: this.time.toISOString(),
      sourceUrl: cfg.source,
      finishedAt: new Date(this.opts.clock()).toISOString(),
      objects,
      bytes,
      shards: shards.length,
      deletedKeys: cps.flatMap((c) => c.deletedKeys).slice(0, DELETED_KEYS_RECORDED),
      manifest: indexKey,
    };
    const index: GenerationIndex = {
      format: 'kura-content-index/1',
      source: cfg.name,
      generation,
      ...(plan.previous ? { previous: plan.previous } : {}),
      boundaries: plan.boundaries,
      shards,
      objects,
      bytes,
    };
    const tags = managedTags({
      backupClass: 'content',
      source: cfg.name,
      time: this.time,
      createdBy: FUNCTION_NAME,
    });
    await port.put(
      vault,
      vaultLayout.summaryKey(policy, cfg.name, generation),
      JSON.stringify(summary, null, 1),
      {
        contentType: 'application/json',
        tags,
      },
    );
    // Last: the index is the generation, written once (another run's index is never replaced).
    await conditionalPut(
      port,
      `generation ${generation} was completed by another run`,
      vault,
      indexKey,
      JSON.stringify(index),
      {
        contentType: 'application/json',
        tags,
        ifNoneMatch: '*',
      },
    );
    outcome.actions.push(
      `generation ${generation}: ${objects} objects in ${shards.length} shard(s), ${counts.copied} copied (${counts.copiedBytes} bytes), ${counts.unchanged} unchanged, ${counts.deleted} deleted in the source`,
    );
    Object.assign(outcome, {
      ...counts,
      archivedSkipped: archivedCount,
      complete: true,
      objects,
      shards: shards.length,
      manifest: `s3://${vault}/${indexKey}`,
    });
    if (archivedCount) {
      outcome.warnings.push(
        `${archivedCount} source object(s) in an archive storage class were not copied (first: ${archived.slice(0, 5).join(', ')}); the previous generation's copy stays where there is one: restore them in the source, or move them out of ${cfg.source}`,
      );
    }
    // Listed now, not when planning: a plan may be days old (a replayed event), and pruning
    // among the generations it knew would miss newer ones.
    outcome.pruned = await this.prune(await listGenerations(port, policy, cfg.name));
  }

  /**
   * Keeps the newest `generations`; an older one loses its shard manifests and
   * then its index to delete markers (Object Lock keeps the bytes for its term).
   */
  private async prune(generations: string[]): Promise<string[]> {
    const { policy, port, cfg, vault } = this;
    const plan = planPruning(
      [...new Set(generations)].map((g) => ({
        id: g,
        time: new Date(`${g}T00:00:00Z`),
        managed: GENERATION_NAME.test(g),
        complete: true,
      })),
      { minGenerations: cfg.generations, maxGenerations: cfg.generations },
      // Generations are dates (UTC midnight above), so "now" is this run's own
      // generation date on the same scale: compared with the run's instant,
      // its own generation would look newer than the run (planPruning never
      // prunes what is newer than "now", a guard against replays and skew).
      new Date(`${this.generation}T00:00:00Z`),
    );
    for (const p of plan.prune) {
      const index = await readIndex(port, policy, cfg.name, p.id);
      if (index) {
        // Shards first: a prune interrupted here is finished by the next run, which still sees the index.
        await port.deleteKeys(
          vault,
          index.shards.map((s) => s.key),
        );
        await port.deleteMarker(vault, vaultLayout.indexKey(policy, cfg.name, p.id));
      } else await port.deleteMarker(vault, vaultLayout.manifestKey(policy, cfg.name, p.id));
    }
    return plan.prune.map((p) => p.id);
  }
}

/** "Folder" placeholder objects carry no content. */
function isContent(rel: string, size: number): boolean {
  return !(rel === '' || (rel.endsWith('/') && size === 0));
}

function resolveOptions(options: ContentBackupOptions): Options {
  return {
    budgetMs: options.budgetMs ?? DEFAULTS.budgetMs,
    chunkKeys: options.chunkKeys ?? DEFAULTS.chunkKeys,
    concurrency: options.concurrency ?? DEFAULTS.concurrency,
    shardKeys: options.shardKeys ?? DEFAULTS.shardKeys,
    shardConcurrency: options.shardConcurrency ?? DEFAULTS.shardConcurrency,
    clock: options.clock ?? Date.now,
    copy: options.copy,
  };
}

function selectSources(policy: Policy, names: string[] | undefined): ContentSourcePolicy[] {
  const unknown = (names ?? []).filter((s) => !policy.content.some((c) => c.name === s));
  if (unknown.length) {
    throw new InputError([
      `detail.sources: unknown content source(s) ${unknown.join(', ')}; expected names from the policy's content[]`,
    ]);
  }
  return policy.content.filter((c) => !names || names.includes(c.name));
}

/** Runs `work` for every source; a duplicate run that lost a race is `skipped`, not failed. */
async function eachSource(
  sources: ContentSourcePolicy[],
  work: (c: ContentSourcePolicy, outcome: TargetOutcome) => Promise<boolean>,
): Promise<{ targets: TargetOutcome[]; complete: boolean }> {
  let complete = true;
  const targets = await forEachTarget(
    sources,
    (c) => c.name,
    async (c, outcome) => {
      try {
        if (!(await work(c, outcome))) complete = false;
      } catch (err) {
        if (!(err instanceof ConcurrentRunError)) throw err;
        // Not a failure: the other invocation carries the generation on; the next one here resumes after it.
        outcome.status = 'skipped';
        outcome.actions.push(`${err.message}: this invocation stopped, nothing was overwritten`);
        complete = false;
      }
    },
  );
  if (targets.some((t) => t.status === 'failed')) complete = false;
  return { targets, complete };
}

function runResult(
  time: Date,
  policy: Policy,
  targets: TargetOutcome[],
  complete: boolean,
): ContentRunResult {
  const metrics: MetricPoint[] = targets.flatMap((t) => [
    {
      name: 'ContentObjectsCopied',
      value: Number(t.copied ?? 0),
      unit: 'Count' as const,
      dimensions: { source: t.target },
    },
    {
      name: 'ContentBytesCopied',
      value: Number(t.copiedBytes ?? 0),
      unit: 'Bytes' as const,
      dimensions: { source: t.target },
    },
    {
      name: 'ContentObjectsDeleted',
      value: Number(t.deleted ?? 0),
      unit: 'Count' as const,
      dimensions: { source: t.target },
    },
  ]);
  return {
    function: FUNCTION_NAME,
    time: time.toISOString(),
    generation: generationName(time, policy.timezone),
    ok: targets.every((t) => t.status !== 'failed'),
    complete,
    targets,
    warnings: [],
    metrics,
  };
}

/** Runs `work` on every selected source's job for this time; one result for the run. */
async function eachJob(
  time: Date,
  policy: Policy,
  port: ContentPort,
  options: ContentBackupOptions,
  sources: ContentSourcePolicy[],
  work: (job: SourceJob, outcome: TargetOutcome, opts: Options) => Promise<boolean>,
): Promise<ContentRunResult> {
  const opts = resolveOptions(options);
  const started = opts.clock();
  const { targets, complete } = await eachSource(sources, (c, outcome) =>
    work(new SourceJob(policy, c, port, opts, started, time), outcome, opts),
  );
  return runResult(time, policy, targets, complete);
}

/** The three steps in one invocation, shards in parallel: `kura invoke`, the tests and benchmarks. */
export async function contentBackup(
  time: Date,
  policy: Policy,
  port: ContentPort,
  options: ContentBackupOptions = {},
): Promise<ContentRunResult> {
  const sources = selectSources(policy, options.sources);
  return eachJob(time, policy, port, options, sources, async (job, outcome, opts) => {
    const plan = await job.plan(outcome);
    if (!plan) return true;
    if (!plan.complete) {
      outcome.complete = false;
      return false;
    }
    const ranges = shardRanges(plan.boundaries);
    let done = 0;
    await inParallel(ranges, opts.shardConcurrency, async (r) => {
      if (await job.shard(plan, r.shard, outcome)) done++;
    });
    if (done < ranges.length) {
      outcome.complete = false;
      outcome.actions.push(`${done} of ${ranges.length} shard(s) complete; the next invocation continues`);
      return false;
    }
    await job.finish(plan, outcome, true);
    return true;
  });
}

/** Plan: every selected source's shard plan; `items` are the Map's children once all are planned. */
export async function planContentBackup(
  time: Date,
  policy: Policy,
  port: ContentPort,
  options: ContentBackupOptions = {},
): Promise<ContentPlanResult> {
  const items: ShardItem[] = [];
  const sources = selectSources(policy, options.sources);
  const result = await eachJob(time, policy, port, options, sources, async (job, outcome) => {
    const plan = await job.plan(outcome);
    if (!plan) return true;
    outcome.complete = false;
    if (!plan.complete) return false;
    for (const r of shardRanges(plan.boundaries)) items.push({ source: plan.source, shard: r.shard });
    return true;
  });
  return { ...result, items: result.complete ? items : [] };
}

/** One Map child: one slice of one shard (`complete` when its shard manifest exists). */
export async function runContentShard(
  time: Date,
  policy: Policy,
  port: ContentPort,
  item: ShardItem,
  options: ContentBackupOptions = {},
): Promise<ContentRunResult> {
  const sources = [findSource(policy, item.source)];
  return eachJob(time, policy, port, options, sources, async (job, outcome) => {
    const saved = await job.readPlan();
    if (!saved?.plan.complete)
      throw new Error(
        `generation ${job.generation} of ${item.source} has no complete shard plan (s3://${policy.vault.bucket}/${vaultLayout.planKey(policy, item.source, job.generation)}); the plan step makes it first`,
      );
    outcome.generation = job.generation;
    outcome.shard = item.shard;
    const done = await job.shard(saved.plan, item.shard, outcome);
    outcome.complete = done;
    return done;
  });
}

/** Finish: the index of every selected source whose shards are all complete, then pruning. */
export async function finishContentBackup(
  time: Date,
  policy: Policy,
  port: ContentPort,
  options: ContentBackupOptions = {},
): Promise<ContentRunResult> {
  const sources = selectSources(policy, options.sources);
  return eachJob(time, policy, port, options, sources, async (job, outcome) => {
    const saved = await job.readPlan();
    if (!saved) {
      // No plan left (its work files expire) for a generation completed days ago: a replay.
      if (await job.completedEarlier(outcome)) return true;
      throw new Error(`generation ${job.generation} of ${outcome.target} was not planned before finishing`);
    }
    await job.finish(saved.plan, outcome);
    return true;
  });
}
