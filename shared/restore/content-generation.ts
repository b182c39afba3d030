// Restore (content class): put a generation back (all of it, or a sample)
// under a prefix of any bucket, and verify a generation by re-reading the
// vault's bytes and comparing them with the manifest's S3-computed SHA-256.
// A whole generation runs shard by shard on its stored plan (content-sharded.ts:
// never the whole manifest in memory), with its progress recorded under a
// restore id, so a restore or verify that stopped continues where it stopped.
import type { ContentPort, CopyOptions } from '../aws/content.ts';
import type { VaultContent } from '../aws/content-generations.ts';
import {
  compareKeys,
  findSource,
  GENERATION_NAME,
  parseS3Url,
  sampleEntries,
  vaultLayout,
} from '../domain/content.ts';
import { assertInsideTarget } from '../domain/restore-paths.ts';
import type { Policy } from '../policy/schema.ts';
import { InputError, NotReadyError } from '../runtime/errors.ts';
import { inParallel } from '../runtime/parallel.ts';
import {
  type ContentJob,
  jobTotals,
  memoryStore,
  type ProgressStore,
  type ShardRunOptions,
  type VerifyFailure,
} from './content-shard-job.ts';
import { strangerAfter } from './content-shard-restore.ts';
import { verifyEntry } from './content-shard-verify.ts';
import { runJob } from './content-sharded.ts';

export type { VerifyFailure } from './content-shard-job.ts';

/** "latest" or a generation date → an existing generation, or a clear error. */
export async function resolveGeneration(
  vault: Pick<VaultContent, 'generations'>,
  policy: Policy,
  source: string,
  generation = 'latest',
): Promise<string> {
  findSource(policy, source);
  if (generation !== 'latest' && !GENERATION_NAME.test(generation)) {
    throw new InputError([
      `--generation: found "${generation}"; expected "latest" or a date yyyy-mm-dd (in ${policy.timezone})`,
    ]);
  }
  const gens = await vault.generations.list(source);
  if (gens.length === 0)
    throw new InputError([`--source ${source}: no complete generation in s3://${policy.vault.bucket}/ yet`]);
  if (generation === 'latest') return gens[0] as string;
  if (!gens.includes(generation)) {
    throw new InputError([
      `--generation: ${source} has no generation ${generation}; available: ${gens.join(', ')}`,
    ]);
  }
  return generation;
}

export function parseTarget(url: string, flag = '--to'): { bucket: string; prefix: string } {
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(.*\/)?$/.test(url)) {
    throw new InputError([`${flag}: found "${url}"; expected s3://bucket/prefix/ (ending in "/")`]);
  }
  return parseS3Url(url);
}

export interface RestoreRequest {
  source: string;
  generation: string;
  to: { bucket: string; prefix: string };
  /** Restore only this many objects, spread over the generation (validation). */
  sample?: number;
  /** Restore only the keys under this prefix (relative to the source); they land at to.prefix + key. */
  keyPrefix?: string;
  concurrency?: number;
  copy?: Pick<CopyOptions, 'multipartThreshold' | 'partLimits'>;
  /**
   * Continue a restore that stopped: the target may hold objects already, and
   * those with the manifest's key and size are kept, not copied again (S3
   * writes whole objects only, so one that exists is complete). Anything else
   * under the target is refused as without `resume`.
   */
  resume?: boolean;
  /** The restore id its progress is recorded under, and where (default: in memory, for one call). */
  id?: string;
  store?: ProgressStore;
  /** A whole generation: the slice's budget, chunk size and checkpoint interval (content-sharded.ts). */
  run?: Pick<ShardRunOptions, 'budgetMs' | 'chunkKeys' | 'checkpointMs' | 'clock'> & {
    shardConcurrency?: number;
  };
}

export interface RestoreOutcome {
  source: string;
  generation: string;
  to: string;
  objects: number;
  bytes: number;
  /** Objects a resumed restore found already in place (included in `objects`). */
  alreadyRestored?: number;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
}

/** Checks that the target prefix is empty, so a restore never overwrites anything. */
export async function assertEmptyTarget(
  target: ContentPort,
  to: { bucket: string; prefix: string },
): Promise<void> {
  const page = await target.listPage(to.bucket, to.prefix, undefined, 1);
  if (page.objects.length > 0) {
    throw new InputError([
      `--to s3://${to.bucket}/${to.prefix}: not empty (found ${page.objects[0]?.key}); expected an empty prefix so that nothing is overwritten`,
    ]);
  }
}

/**
 * Puts a generation's objects, by vault version id, under `to`; content type,
 * metadata and tags travel with them. `vault` reads the vault; `target` acts
 * where the objects go. The same port (one account, as `kura restore content`
 * uses it) copies server-side; two ports (the isolated account) stream: read
 * with the vault's credentials, written with the target's, so the target
 * account needs no grant on the vault, its bucket policy or its key.
 * `clock` times the restore (the Clients' timer in a restore or validation run).
 */
export async function restoreGeneration(
  vault: VaultContent,
  target: ContentPort,
  policy: Policy,
  req: RestoreRequest,
  clock: () => Date = () => new Date(),
): Promise<RestoreOutcome> {
  const started = clock();
  const keyPrefix = req.keyPrefix ?? '';
  // Where this restore writes: only that part must be empty (and is what cleanup removes).
  const to = { bucket: req.to.bucket, prefix: req.to.prefix + keyPrefix };
  let bytes = 0;
  let objects = 0;
  let alreadyRestored: number | undefined;
  const sameAccount = vault.objects === target;
  if (req.sample !== undefined) {
    if (!req.resume) await assertEmptyTarget(target, to);
    const all = await vault.generations.manifest(req.source, req.generation);
    if (!all) throw new InputError([`--generation: ${req.source} has no generation ${req.generation}`]);
    const wanted = keyPrefix ? all.filter((e) => e.key.startsWith(keyPrefix)) : all;
    if (keyPrefix && wanted.length === 0) throw noneUnder(keyPrefix, req);
    const entries = sampleEntries(wanted, req.sample, Date.parse(req.generation));
    // Checked before anything is copied: one bad key refuses the whole restore.
    for (const e of entries) assertInsideTarget(e.key, `content key of ${req.source}`);
    // Streams hold up to two 8 MiB parts each: fewer in flight than server-side copies.
    await inParallel(entries, req.concurrency ?? (sameAccount ? 32 : 8), async (e) => {
      const src = {
        bucket: policy.vault.bucket,
        key: vaultLayout.objectKey(req.source, e.key),
        versionId: e.versionId,
      };
      const dst = { bucket: req.to.bucket, key: req.to.prefix + e.key };
      if (sameAccount) await target.copy(src, dst, { ...req.copy, size: e.size });
      else await target.writeObject(dst, await vault.objects.readObject(src));
      bytes += e.size;
    });
    objects = entries.length;
  } else {
    // The whole generation: shard by shard on its stored plan, a chunk at a time (memory stays
    // flat), progress recorded under the restore id so that a call after a stop continues.
    const job: ContentJob = {
      id: req.id ?? 'in-process',
      mode: 'restore',
      source: req.source,
      generation: req.generation,
      to: req.to,
      ...(keyPrefix ? { keyPrefix } : {}),
    };
    const run = await runJob({ vault, target, store: req.store ?? memoryStore() }, policy, job, {
      ...req.run,
      concurrency: req.concurrency,
      copy: req.copy,
      resume: req.resume,
    });
    assertDone(job, run);
    const totals = jobTotals(run.progress);
    objects = totals.objects;
    bytes = totals.bytes;
    if (keyPrefix && objects === 0) throw noneUnder(keyPrefix, req);
    if (!run.fresh) {
      alreadyRestored = totals.alreadyRestored;
      const extra = await strangerAfter(target, job, run.progress);
      if (extra)
        throw new InputError([
          `--to s3://${to.bucket}/${to.prefix}: holds ${extra}, which is not in ${req.source} generation ${req.generation}; the rest of the generation was restored`,
        ]);
    }
  }
  const finished = clock();
  return {
    source: req.source,
    generation: req.generation,
    to: `s3://${to.bucket}/${to.prefix}`,
    objects,
    bytes,
    ...(req.resume ? { alreadyRestored: alreadyRestored ?? 0 } : {}),
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: (finished.getTime() - started.getTime()) / 1000,
  };
}

/** A job that ran out of its budget: NotReadyError, and the next call (same id) continues. */
function assertDone(job: ContentJob, run: Awaited<ReturnType<typeof runJob>>): void {
  if (run.complete) return;
  const done = run.progress.filter((p) => p.done).length;
  throw new NotReadyError(
    `content ${job.mode} ${job.id}: ${done} of ${run.shards.length} shard(s) done; the next call continues`,
    { waitSeconds: 1 },
  );
}

function noneUnder(keyPrefix: string, req: RestoreRequest): InputError {
  return new InputError([
    `prefix "${keyPrefix}": no object of ${req.source} generation ${req.generation} starts with it; expected a key prefix relative to the source`,
  ]);
}

export interface VerifyReport {
  source: string;
  generation: string;
  objects: number;
  checked: number;
  bytesRead: number;
  ok: boolean;
  /** The failures recorded (at most 100 per shard; `failureCount` says how many when more). */
  failures: VerifyFailure[];
  failureCount?: number;
}

/** Re-reads a generation's objects (all, or a sample) and compares them with the manifest. */
export async function verifyGeneration(
  vault: VaultContent,
  policy: Policy,
  req: {
    source: string;
    generation: string;
    sample?: number;
    concurrency?: number;
    /** A whole generation: the id its progress is recorded under, and where (default: in memory). */
    id?: string;
    store?: ProgressStore;
    run?: RestoreRequest['run'];
  },
): Promise<VerifyReport> {
  if (req.sample !== undefined) {
    const all = await vault.generations.manifest(req.source, req.generation);
    if (!all) throw new InputError([`--generation: ${req.source} has no generation ${req.generation}`]);
    const failures: VerifyFailure[] = [];
    let bytesRead = 0;
    const entries = sampleEntries(all, req.sample, Date.now());
    await inParallel(entries, req.concurrency ?? 8, async (e) => {
      const r = await verifyEntry(vault.objects, policy, req.source, e);
      bytesRead += r.bytes;
      if (r.problem) failures.push({ key: e.key, versionId: e.versionId, problem: r.problem });
    });
    failures.sort((a, b) => compareKeys(a.key, b.key));
    return verifyReport(req, {
      objects: all.length,
      checked: entries.length,
      bytesRead,
      failures,
      failureCount: failures.length,
    });
  }
  // Shard by shard on the generation's plan, a chunk at a time: memory stays flat however large.
  const job: ContentJob = {
    id: req.id ?? 'in-process',
    mode: 'verify',
    source: req.source,
    generation: req.generation,
  };
  const run = await runJob({ vault, target: vault.objects, store: req.store ?? memoryStore() }, policy, job, {
    ...req.run,
    concurrency: req.concurrency,
  });
  assertDone(job, run);
  const t = jobTotals(run.progress);
  return verifyReport(req, { ...t, checked: t.objects });
}

/** The report of a verify, from its counts and the failures recorded. */
export function verifyReport(
  req: { source: string; generation: string },
  t: { objects: number; checked: number; bytesRead: number; failures: VerifyFailure[]; failureCount: number },
): VerifyReport {
  return {
    source: req.source,
    generation: req.generation,
    objects: t.objects,
    checked: t.checked,
    bytesRead: t.bytesRead,
    ok: t.failureCount === 0,
    failures: t.failures,
    ...(t.failureCount > t.failures.length ? { failureCount: t.failureCount } : {}),
  };
}
