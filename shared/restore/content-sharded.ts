// Restore (content class, at scale): a whole generation restored or verified
// shard by shard on the generation's stored plan (its index), each shard as
// one Map child in time-boxed slices. A shard streams its manifest (gzip JSON
// lines, one chunk of entries held at a time) and records its progress under
// restores/<restore id>/content/, so a re-run of the same restore id continues
// after the last recorded key and never starts from zero. Keys a crashed slice
// may have written after that record are checked in the target by SHA-256
// (HEAD), never assumed: equal bytes are kept, others are refused.
import { createHash } from 'node:crypto';
import type { ContentPort, CopyOptions } from '../aws/content.ts';
import { inParallel } from '../aws/content.ts';
import { generationManifests, readIndex, streamManifests } from '../aws/content-generations.ts';
import { compareKeys, type ManifestEntry, vaultLayout } from '../domain/content.ts';
import { assertInsideTarget } from '../domain/restore-paths.ts';
import type { Policy } from '../policy/schema.ts';
import { InputError } from '../runtime/errors.ts';
import { isAwsError, isUnknownVersion } from '../aws/errors.ts';
import { sha256OfStream } from '../domain/content.ts';

export interface VerifyFailure {
  key: string;
  versionId: string;
  problem: string;
}

/** Re-reads one vault version and compares its size and SHA-256 with the manifest entry. */
export async function verifyEntry(
  vault: ContentPort,
  policy: Policy,
  source: string,
  e: ManifestEntry,
): Promise<{ problem?: string; bytes: number }> {
  const ref = {
    bucket: policy.vault.bucket,
    key: vaultLayout.objectKey(source, e.key),
    versionId: e.versionId,
  };
  let got: { sha256: string; size: number };
  try {
    got = await sha256OfStream(vault.read(ref), e.partSize);
  } catch (err) {
    if (isAwsError(err, 'notFound') || isUnknownVersion(err))
      return { problem: `version ${e.versionId} is missing from the vault`, bytes: 0 };
    throw err;
  }
  if (got.size !== e.size)
    return { problem: `size ${got.size} bytes, manifest says ${e.size}`, bytes: got.size };
  if (got.sha256 !== e.sha256)
    return { problem: `SHA-256 ${got.sha256}, manifest says ${e.sha256}`, bytes: got.size };
  return { bytes: got.size };
}

/** What a sharded run does: restore a generation under `to`, or verify it in the vault. */
export interface ContentJob {
  /** The restore id (an orchestrated restore's request id): progress lives under restores/<id>/. */
  id: string;
  mode: 'restore' | 'verify';
  source: string;
  generation: string;
  /** Restore only: the restore's root (objects land at to.prefix + key). */
  to?: { bucket: string; prefix: string };
  /** Restore only the keys under this prefix (relative to the source). */
  keyPrefix?: string;
}

/** One Map item: a shard of the generation's plan, as its index records it. */
export interface JobShard {
  shard: number;
  /** Vault key of the shard manifest, and the SHA-256 of its bytes (from the index). */
  manifest: string;
  sha256?: string;
  objects?: number;
  /** The shard's key range starts after this key (undefined: the first shard). */
  after?: string;
}

/** restores/<id>/content/<job>/shard-<n>.json: saved during a shard and when it is done. */
export interface ShardProgress {
  format: 'kura-content-restore-shard/1';
  shard: number;
  startedAt: string;
  invocations: number;
  /** Last key (relative) of the last chunk recorded: everything up to it is done. */
  after?: string;
  /** The slice stopped at its budget before starting the next chunk: nothing after `after` was written. */
  stopped?: boolean;
  objects: number;
  bytes: number;
  /** Restore: objects found already in the target with the manifest's SHA-256 (counted in `objects`). */
  alreadyRestored: number;
  copied: number;
  /** Verify: bytes re-read and the failures (the first FAILURES_RECORDED). */
  bytesRead: number;
  failures: VerifyFailure[];
  failureCount: number;
  done?: boolean;
}

/** Where progress is kept: the restore store (restores/<id>/<name>); an in-memory map when none. */
export type ProgressStore = {
  get<T>(id: string, name: string): Promise<T | undefined>;
  put(id: string, name: string, body: unknown): Promise<unknown>;
};

export interface ShardedPorts {
  /** Reads the vault (kura's credentials). */
  vault: ContentPort;
  /** Writes where the objects go; the same port (one account) copies server-side. */
  target: ContentPort;
  store: ProgressStore;
}

export interface ShardRunOptions {
  /** Stop starting new chunks after this many ms of a slice (the Map child calls again). */
  budgetMs?: number;
  /** Manifest entries restored or verified at once: the memory bound. */
  chunkKeys?: number;
  concurrency?: number;
  /** Progress is saved when this long has passed since the last save (and at the budget, and when done). */
  checkpointMs?: number;
  copy?: Pick<CopyOptions, 'multipartThreshold' | 'partLimits'>;
  clock?: () => number;
}

export const SHARDED_DEFAULTS = {
  budgetMs: 600_000,
  chunkKeys: 1_000,
  checkpointMs: 30_000,
};
const FAILURES_RECORDED = 100;

export function jobName(job: ContentJob): string {
  const what = JSON.stringify([job.source, job.generation, job.to ?? null, job.keyPrefix ?? '']);
  return `${job.mode}-${createHash('sha256').update(what).digest('hex').slice(0, 12)}`;
}

export const progressName = (job: ContentJob, shard: number): string =>
  `content/${jobName(job)}/shard-${shard}.json`;

/** The generation's shards from its index (a generation written before sharding is one). */
export async function jobShards(vault: ContentPort, policy: Policy, job: ContentJob): Promise<JobShard[]> {
  const index = await readIndex(vault, policy, job.source, job.generation);
  if (index)
    return index.shards.map((s) => ({
      shard: s.shard,
      manifest: s.key,
      sha256: s.sha256,
      objects: s.objects,
      ...(s.after !== undefined ? { after: s.after } : {}),
    }));
  const manifests = await generationManifests(vault, policy, job.source, job.generation);
  if (!manifests) throw new InputError([`--generation: ${job.source} has no generation ${job.generation}`]);
  return manifests.map((m, shard) => ({ shard, manifest: m.key }));
}

/** Restore: where this restore writes (to.prefix + keyPrefix). */
export function restoreRoot(job: ContentJob): { bucket: string; prefix: string } {
  if (!job.to) throw new InputError([`content restore ${job.id}: expected a target (to)`]);
  return { bucket: job.to.bucket, prefix: job.to.prefix + (job.keyPrefix ?? '') };
}

/** True when the restore's part of the target holds nothing (one LIST): no shard needs its progress read. */
export async function targetEmpty(target: ContentPort, job: ContentJob): Promise<boolean> {
  const root = restoreRoot(job);
  return (await target.listPage(root.bucket, root.prefix, undefined, 1)).objects.length === 0;
}

function newProgress(shard: number, now: number): ShardProgress {
  return {
    format: 'kura-content-restore-shard/1',
    shard,
    startedAt: new Date(now).toISOString(),
    invocations: 0,
    objects: 0,
    bytes: 0,
    alreadyRestored: 0,
    copied: 0,
    bytesRead: 0,
    failures: [],
    failureCount: 0,
  };
}

/** A composite ("…-N") checksum is comparable only with one made of the same parts. */
const fullObject = (sha: string | undefined): sha is string => Boolean(sha) && !/-\d+$/.test(sha as string);

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
  const entries = () =>
    streamManifests(ports.vault, policy.vault.bucket, [{ key: shard.manifest, sha256: shard.sha256 }]);

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

/** Copies a chunk into the target; with `checkTarget`, keys already there with the manifest's bytes are kept. */
function restoreChunk(
  ports: ShardedPorts,
  policy: Policy,
  job: ContentJob,
  p: ShardProgress,
  shard: JobShard,
  opts: ShardRunOptions,
) {
  const to = job.to as { bucket: string; prefix: string };
  const sameAccount = ports.vault === ports.target;
  const copyOne = async (e: ManifestEntry) => {
    const src = {
      bucket: policy.vault.bucket,
      key: vaultLayout.objectKey(job.source, e.key),
      versionId: e.versionId,
    };
    const dst = { bucket: to.bucket, key: to.prefix + e.key };
    let sha: string | undefined;
    if (sameAccount) sha = (await ports.target.copy(src, dst, { ...opts.copy, size: e.size })).sha256;
    else {
      // Into another account: read with kura's role, write with the target's; hashed on the way.
      const obj = await ports.vault.readObject(src);
      const hash = createHash('sha256');
      async function* hashed() {
        for await (const c of obj.body) {
          hash.update(c);
          yield c;
        }
      }
      await ports.target.writeObject(dst, { ...obj, body: hashed() });
      if (!e.partSize) sha = hash.digest('base64');
    }
    if (fullObject(sha) && fullObject(e.sha256) && sha !== e.sha256)
      throw new Error(
        `s3://${dst.bucket}/${dst.key}: restored with SHA-256 ${sha}, the manifest says ${e.sha256} (vault version ${e.versionId} of ${job.source}); the vault copy is not the generation's`,
      );
  };
  const concurrency = opts.concurrency ?? (sameAccount ? 32 : 8);
  return async (chunk: ManifestEntry[], checkTarget: boolean) => {
    const { todo, present } = checkTarget
      ? await notYetRestored(ports.target, job, p.after ?? shard.after, chunk)
      : { todo: chunk, present: 0 };
    await inParallel(todo, concurrency, copyOne);
    const bytes = chunk.reduce((n, e) => n + e.size, 0);
    p.objects += chunk.length;
    p.bytes += bytes;
    p.copied += todo.length;
    p.alreadyRestored += chunk.length - todo.length;
    return present;
  };
}

/**
 * The chunk's entries not yet in the target: the target is listed over the
 * chunk's keys, and each one there is compared by SHA-256 (HEAD). Another
 * object, or a key not in the generation, is refused: a continued restore
 * overwrites nothing and goes only into a prefix that holds its own objects.
 */
async function notYetRestored(
  target: ContentPort,
  job: ContentJob,
  /** The last key known done (or the shard's lower bound): the listing starts after it. */
  done: string | undefined,
  chunk: ManifestEntry[],
): Promise<{ todo: ManifestEntry[]; present: number }> {
  const to = job.to as { bucket: string; prefix: string };
  const root = restoreRoot(job);
  const last = chunk.at(-1)?.key;
  if (!last) return { todo: [], present: 0 };
  const there = new Map<string, number>();
  let after = done !== undefined ? to.prefix + done : undefined;
  for (;;) {
    const page = await target.listPage(root.bucket, root.prefix, after, 1000);
    let beyond = false;
    for (const o of page.objects) {
      const key = o.key.slice(to.prefix.length);
      if (compareKeys(key, last) > 0) {
        beyond = true;
        break;
      }
      there.set(key, o.size);
    }
    after = page.objects.at(-1)?.key;
    if (beyond || !page.truncated || !after) break;
  }
  const byKey = new Set(chunk.map((e) => e.key));
  for (const k of there.keys())
    if (!byKey.has(k))
      throw new InputError([
        `--to s3://${to.bucket}/${to.prefix}${k}: not in ${job.source} generation ${job.generation}; a continued restore goes only into a prefix that holds nothing but this restore's objects`,
      ]);
  const todo: ManifestEntry[] = [];
  await inParallel(chunk, 16, async (e) => {
    if (!there.has(e.key)) return void todo.push(e);
    const head = await target.head({ bucket: to.bucket, key: to.prefix + e.key });
    const refuse = (what: string) =>
      new InputError([
        `--to s3://${to.bucket}/${to.prefix}${e.key}: holds ${what}, the generation ${e.size} bytes with SHA-256 ${e.sha256}; a continued restore never overwrites: remove it or restore elsewhere`,
      ]);
    if (!head) return void todo.push(e);
    if (head.size !== e.size) throw refuse(`${head.size} bytes`);
    // A kura restore writes every object with S3's SHA-256: one without is someone else's.
    if (!head.sha256) throw refuse('an object without a SHA-256 checksum');
    if (fullObject(head.sha256) && fullObject(e.sha256)) {
      if (head.sha256 !== e.sha256) throw refuse(`other bytes (SHA-256 ${head.sha256})`);
      return;
    }
    // Checksums of different part layouts cannot be compared: this restore's own object is written again.
    todo.push(e);
  });
  return { todo: todo.sort((a, b) => compareKeys(a.key, b.key)), present: there.size };
}

/** Re-reads a chunk's vault versions and compares them with the manifest. */
function verifyChunk(
  ports: ShardedPorts,
  policy: Policy,
  job: ContentJob,
  p: ShardProgress,
  opts: ShardRunOptions,
) {
  return async (chunk: ManifestEntry[]) => {
    await inParallel(chunk, opts.concurrency ?? 8, async (e) => {
      const r = await verifyEntry(ports.vault, policy, job.source, e);
      p.bytesRead += r.bytes;
      if (!r.problem) return;
      p.failureCount++;
      if (p.failures.length < FAILURES_RECORDED)
        p.failures.push({ key: e.key, versionId: e.versionId, problem: r.problem });
    });
    p.objects += chunk.length;
    p.bytes += chunk.reduce((n, e) => n + e.size, 0);
    return 0;
  };
}

/** The job's shards' progress; `complete` when every shard is done. */
export async function jobProgress(
  store: ProgressStore,
  job: ContentJob,
  shards: readonly JobShard[],
): Promise<{ complete: boolean; shards: (ShardProgress | undefined)[] }> {
  const all = await Promise.all(
    shards.map((s) => store.get<ShardProgress>(job.id, progressName(job, s.shard))),
  );
  return { complete: all.every((p) => p?.done), shards: all };
}

/** Sums done shards into the job's totals. */
export function jobTotals(progress: readonly ShardProgress[]) {
  const sum = (k: 'objects' | 'bytes' | 'alreadyRestored' | 'copied' | 'bytesRead' | 'failureCount') =>
    progress.reduce((n, p) => n + p[k], 0);
  const failures = progress.flatMap((p) => p.failures).sort((a, b) => compareKeys(a.key, b.key));
  const startedAt = progress.map((p) => p.startedAt).sort()[0];
  return {
    objects: sum('objects'),
    bytes: sum('bytes'),
    alreadyRestored: sum('alreadyRestored'),
    copied: sum('copied'),
    bytesRead: sum('bytesRead'),
    failureCount: sum('failureCount'),
    failures,
    startedAt,
    invocations: progress.reduce((n, p) => n + p.invocations, 0),
  };
}

/** A progress store in memory (a run in one process that needs no record: it starts at once and ends). */
export function memoryStore(): ProgressStore {
  const m = new Map<string, unknown>();
  return {
    get: async <T>(id: string, name: string) => structuredClone(m.get(`${id}/${name}`)) as T | undefined,
    put: async (id: string, name: string, body: unknown) =>
      void m.set(`${id}/${name}`, structuredClone(body)),
  };
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
  const shards = await jobShards(ports.vault, policy, job);
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

/** After a continued restore: the first target object past the generation's last key, if any. */
export async function strangerAfter(
  target: ContentPort,
  job: ContentJob,
  progress: readonly ShardProgress[],
): Promise<string | undefined> {
  const root = restoreRoot(job);
  const last = progress
    .map((p) => p.after)
    .filter((k): k is string => k !== undefined)
    .sort(compareKeys)
    .at(-1);
  const to = job.to as { bucket: string; prefix: string };
  const page = await target.listPage(
    root.bucket,
    root.prefix,
    last === undefined ? undefined : to.prefix + last,
    1,
  );
  return page.objects[0]?.key;
}
