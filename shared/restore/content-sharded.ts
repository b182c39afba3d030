// Restore (content class, at scale): a whole generation restored or verified
// shard by shard on the generation's stored plan (its index), each shard as
// one Map child in time-boxed slices. A shard streams its manifest (gzip JSON
// lines, one chunk of entries held at a time) and records its progress under
// restores/<restore id>/content/, so a re-run of the same restore id continues
// after the last recorded key and never starts from zero. Keys a crashed slice
// may have written after that record are checked in the target by SHA-256
// (HEAD), never assumed: equal bytes are kept, others are refused.
// The job, its shards and progress are in content-shard-job.ts; a chunk is
// restored by content-shard-restore.ts and verified by content-shard-verify.ts.
import { compareKeys, type ManifestEntry } from '../domain/content.ts';
import { assertInsideTarget } from '../domain/restore-paths.ts';
import type { Policy } from '../policy/schema.ts';
import { InputError } from '../runtime/errors.ts';
import { inParallel } from '../runtime/parallel.ts';
import {
  type ContentJob,
  type JobShard,
  jobShards,
  newProgress,
  progressName,
  restoreRoot,
  SHARDED_DEFAULTS,
  type ShardedPorts,
  type ShardProgress,
  type ShardRunOptions,
  targetEmpty,
} from './content-shard-job.ts';
import { restoreChunk } from './content-shard-restore.ts';
import { verifyChunk } from './content-shard-verify.ts';

/**
 * Runs or continues one shard of a job for one slice; `complete` when the
 * shard's progress says done. `fresh`: the target was empty when the run was
 * planned, so this shard has no progress to read and nothing to check.
 */
export async function runJobShard(
  ports: ShardedPorts,
  policy: Policy,
  job: ContentJob,
  shard: JobShard,
  opts: ShardRunOptions & { fresh?: boolean } = {},
): Promise<{ complete: boolean; progress: ShardProgress }> {
  const clock = opts.clock ?? Date.now;
  const started = clock();
  const budgetMs = opts.budgetMs ?? SHARDED_DEFAULTS.budgetMs;
  const chunkKeys = opts.chunkKeys ?? SHARDED_DEFAULTS.chunkKeys;
  const checkpointMs = opts.checkpointMs ?? SHARDED_DEFAULTS.checkpointMs;
  const name = progressName(job, shard.shard);
  const saved = opts.fresh ? undefined : await ports.store.get<ShardProgress>(job.id, name);
  if (saved?.done) return { complete: true, progress: saved };
  const p = saved ?? newProgress(shard.shard, started);
  p.invocations += 1;
  // After a crash (or on a target that was not empty), what lies after the last record may
  // already be there: the next chunk is checked in the target. A slice that stopped at its
  // budget started nothing after its record.
  let checkTarget = job.mode === 'restore' && !opts.fresh && !p.stopped;
  delete p.stopped;
  let lastSave = started;
  const save = async () => {
    await ports.store.put(job.id, name, p);
    lastSave = clock();
  };
  const wanted = (e: ManifestEntry) =>
    (!job.keyPrefix || e.key.startsWith(job.keyPrefix)) &&
    (p.after === undefined || compareKeys(e.key, p.after) > 0);
  const entries = () => ports.vault.generations.stream([{ key: shard.manifest, sha256: shard.sha256 }]);

  // Restore: every key is checked before the shard writes anything (one bad key refuses the
  // shard). The first chunk is kept from that read: a small shard is read once.
  let first: ManifestEntry[] | undefined;
  if (job.mode === 'restore' && !saved) {
    first = [];
    let all = true;
    // (No record is written before the first copy: a re-run finds this shard's objects by listing.)
    for await (const e of entries()) {
      if (!wanted(e)) continue;
      assertInsideTarget(e.key, `content key of ${job.source}`);
      if (first.length < chunkKeys) first.push(e);
      else all = false;
    }
    if (!all) first = undefined;
  }

  const work =
    job.mode === 'restore'
      ? restoreChunk(ports, policy, job, p, shard, opts)
      : verifyChunk(ports, policy, job, p, opts);
  const runChunk = async (chunk: ManifestEntry[]) => {
    // Chunks run one after the other: once one found none of its keys there, no later one can.
    checkTarget = (await work(chunk, checkTarget)) > 0;
    p.after = chunk.at(-1)?.key ?? p.after;
  };
  let chunk: ManifestEntry[] = [];
  let chunks = 0;
  const next = async (): Promise<boolean> => {
    if (chunks > 0 && clock() - started >= budgetMs) {
      p.stopped = true;
      await save();
      return false;
    }
    await runChunk(chunk);
    chunks++;
    chunk = [];
    if (clock() - lastSave >= checkpointMs) await save();
    return true;
  };
  if (first) {
    chunk = first;
    if (chunk.length && !(await next())) return { complete: false, progress: p };
  } else {
    for await (const e of entries()) {
      if (!wanted(e)) continue;
      chunk.push(e);
      if (chunk.length >= chunkKeys && !(await next())) return { complete: false, progress: p };
    }
    if (chunk.length && !(await next())) return { complete: false, progress: p };
  }
  p.done = true;
  await save();
  return { complete: true, progress: p };
}

export interface JobRunOptions extends ShardRunOptions {
  /** Shards run at once in one process (the state machine's Map has its own MaxConcurrency). */
  shardConcurrency?: number;
  /** The target may hold objects already (a continued restore); otherwise it must be empty. */
  resume?: boolean;
}

/**
 * Runs a job in one process, shards side by side, until done or out of
 * budget: what `kura restore content`, `kura verify content --all` and the
 * restore function's content step do; the state machines run the same shards
 * as Map children instead. `complete` false: call again with the same id.
 */
export async function runJob(
  ports: ShardedPorts,
  policy: Policy,
  job: ContentJob,
  opts: JobRunOptions = {},
): Promise<{ complete: boolean; shards: JobShard[]; progress: ShardProgress[]; fresh: boolean }> {
  const clock = opts.clock ?? Date.now;
  const t0 = clock();
  const budgetMs = opts.budgetMs ?? SHARDED_DEFAULTS.budgetMs;
  const shards = await jobShards(ports.vault, job);
  const fresh = job.mode === 'restore' && (await targetEmpty(ports.target, job));
  if (job.mode === 'restore' && !fresh && !opts.resume) {
    const root = restoreRoot(job);
    throw new InputError([
      `--to s3://${root.bucket}/${root.prefix}: not empty; expected an empty prefix so that nothing is overwritten (or continue a restore that stopped)`,
    ]);
  }
  const progress: (ShardProgress | undefined)[] = shards.map(() => undefined);
  let complete = true;
  let started = 0;
  await inParallel(shards, opts.shardConcurrency ?? 4, async (s) => {
    const left = budgetMs - (clock() - t0);
    // Out of budget: shards not started wait for the next call (each call moves at least one on).
    if (left <= 0 && started > 0) {
      complete = false;
      return;
    }
    started++;
    const r = await runJobShard(ports, policy, job, s, { ...opts, fresh, budgetMs: Math.max(left, 0) });
    progress[s.shard] = r.progress;
    if (!r.complete) complete = false;
  });
  return { complete, shards, progress: progress.filter((p): p is ShardProgress => Boolean(p)), fresh };
}
