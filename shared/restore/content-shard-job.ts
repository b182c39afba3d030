// Restore (content class, at scale): what a sharded run works on, shared by
// the shard restore (content-shard-restore.ts) and the shard verify
// (content-shard-verify.ts): the job and its shards (from the generation's
// index), each shard's progress record under restores/<restore id>/content/
// and the totals over them. The runner is content-sharded.ts.
import { createHash } from 'node:crypto';
import type { ContentPort, CopyOptions } from '../aws/content.ts';
import type { VaultContent } from '../aws/content-generations.ts';
import { compareKeys } from '../domain/content.ts';
import { InputError } from '../runtime/errors.ts';

export interface VerifyFailure {
  key: string;
  versionId: string;
  problem: string;
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
  /** Reads the vault (kura's credentials): its objects and generations. */
  vault: VaultContent;
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
export const FAILURES_RECORDED = 100;

export function jobName(job: ContentJob): string {
  const what = JSON.stringify([job.source, job.generation, job.to ?? null, job.keyPrefix ?? '']);
  return `${job.mode}-${createHash('sha256').update(what).digest('hex').slice(0, 12)}`;
}

export const progressName = (job: ContentJob, shard: number): string =>
  `content/${jobName(job)}/shard-${shard}.json`;

/** The generation's shards from its index (a generation written before sharding is one). */
export async function jobShards(vault: VaultContent, job: ContentJob): Promise<JobShard[]> {
  const index = await vault.generations.index(job.source, job.generation);
  if (index)
    return index.shards.map((s) => ({
      shard: s.shard,
      manifest: s.key,
      sha256: s.sha256,
      objects: s.objects,
      ...(s.after !== undefined ? { after: s.after } : {}),
    }));
  const manifests = await vault.generations.manifests(job.source, job.generation);
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

export function newProgress(shard: number, now: number): ShardProgress {
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
export const fullObject = (sha: string | undefined): sha is string =>
  Boolean(sha) && !/-\d+$/.test(sha as string);

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
