// Restore (content class): put a generation back (all of it, or a sample)
// under a prefix of any bucket, and verify a generation by re-reading the
// vault's bytes and comparing them with the manifest's S3-computed SHA-256.
// A whole generation is streamed shard by shard in batches (never the whole
// manifest in memory), and a restore that stopped resumes: it merges the
// target's listing with the manifest and copies only the keys not there yet.
import type { ContentPort, CopyOptions } from '../aws/content.ts';
import { inParallel } from '../aws/content.ts';
import { isAwsError, isUnknownVersion } from '../aws/errors.ts';
import {
  compareKeys,
  findSource,
  GENERATION_NAME,
  type ListedObject,
  type ManifestEntry,
  parseS3Url,
  sampleEntries,
  sha256OfStream,
  vaultLayout,
} from '../domain/content.ts';
import type { Policy } from '../policy/schema.ts';
import { assertInsideTarget } from '../domain/restore-paths.ts';
import { InputError } from '../runtime/errors.ts';
import { generationManifests, listGenerations, readManifest, streamManifests } from '../aws/content-generations.ts';

/** Entries restored or verified at once: the memory bound of a whole-generation run. */
const BATCH = 1_000;

/** "latest" or a generation date → an existing generation, or a clear error. */
export async function resolveGeneration(
  port: ContentPort,
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
  const gens = await listGenerations(port, policy, source);
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
  vault: ContentPort,
  target: ContentPort,
  policy: Policy,
  req: RestoreRequest,
  clock: () => Date = () => new Date(),
): Promise<RestoreOutcome> {
  const started = clock();
  const manifests = await generationManifests(vault, policy, req.source, req.generation);
  if (!manifests) throw new InputError([`--generation: ${req.source} has no generation ${req.generation}`]);
  const keyPrefix = req.keyPrefix ?? '';
  // Where this restore writes: only that part must be empty (and is what cleanup removes).
  const to = { bucket: req.to.bucket, prefix: req.to.prefix + keyPrefix };
  if (!req.resume) await assertEmptyTarget(target, to);
  let bytes = 0;
  let objects = 0;
  let alreadyRestored = 0;
  const sameAccount = vault === target;
  const copyOne = async (e: ManifestEntry) => {
    const src = {
      bucket: policy.vault.bucket,
      key: vaultLayout.objectKey(req.source, e.key),
      versionId: e.versionId,
    };
    const dst = { bucket: req.to.bucket, key: req.to.prefix + e.key };
    // Into another account: read with kura's role, write with the target's (neither may do
    // both: the vault's bucket and key policies keep the vault to kura and its administrators).
    if (sameAccount) await target.copy(src, dst, { ...req.copy, size: e.size });
    else await target.writeObject(dst, await vault.readObject(src));
    bytes += e.size;
  };
  // Streams hold up to two 8 MiB parts each: fewer in flight than server-side copies.
  const concurrency = req.concurrency ?? (sameAccount ? 32 : 8);
  if (req.sample !== undefined) {
    const all = (await readManifest(vault, policy, req.source, req.generation)) ?? [];
    const wanted = keyPrefix ? all.filter((e) => e.key.startsWith(keyPrefix)) : all;
    if (keyPrefix && wanted.length === 0) throw noneUnder(keyPrefix, req);
    const entries = sampleEntries(wanted, req.sample, Date.parse(req.generation));
    // Checked before anything is copied: one bad key refuses the whole restore.
    for (const e of entries) assertInsideTarget(e.key, `content key of ${req.source}`);
    await inParallel(entries, concurrency, copyOne);
    objects = entries.length;
  } else {
    // Checked before anything is copied: one bad key refuses the whole restore. This reads
    // the shard manifests twice (one GET each), never the whole generation in memory.
    for await (const e of streamManifests(vault, policy.vault.bucket, manifests))
      if (!keyPrefix || e.key.startsWith(keyPrefix)) assertInsideTarget(e.key, `content key of ${req.source}`);
    const present = req.resume ? new TargetCursor(target, to, req.to.prefix) : undefined;
    let batch: ManifestEntry[] = [];
    const flush = async () => {
      let todo = batch;
      if (present) {
        todo = [];
        for (const e of batch) {
          const there = await present.find(e.key);
          if (there && there.size === e.size) {
            alreadyRestored++;
            bytes += e.size;
          } else if (there)
            throw new InputError([
              `--to s3://${req.to.bucket}/${req.to.prefix}${e.key}: holds ${there.size} bytes, the generation ${e.size}; a resumed restore never overwrites: remove it or restore elsewhere`,
            ]);
          else todo.push(e);
        }
      }
      await inParallel(todo, concurrency, copyOne);
      objects += batch.length;
      batch = [];
    };
    for await (const e of streamManifests(vault, policy.vault.bucket, manifests)) {
      if (keyPrefix && !e.key.startsWith(keyPrefix)) continue;
      batch.push(e);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    if (keyPrefix && objects === 0) throw noneUnder(keyPrefix, req);
    const extra = await present?.rest();
    if (extra)
      throw new InputError([
        `--to s3://${to.bucket}/${to.prefix}: holds ${extra}, which is not in ${req.source} generation ${req.generation}; the rest of the generation was restored`,
      ]);
  }
  const finished = clock();
  return {
    source: req.source,
    generation: req.generation,
    to: `s3://${to.bucket}/${to.prefix}`,
    objects,
    bytes,
    ...(req.resume ? { alreadyRestored } : {}),
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: (finished.getTime() - started.getTime()) / 1000,
  };
}

function noneUnder(keyPrefix: string, req: RestoreRequest): InputError {
  return new InputError([
    `prefix "${keyPrefix}": no object of ${req.source} generation ${req.generation} starts with it; expected a key prefix relative to the source`,
  ]);
}

/**
 * The target's objects in key order, a listing page at a time: a resumed
 * restore asks, in ascending key order, whether each key is there already.
 */
class TargetCursor {
  private page: ListedObject[] = [];
  private at = 0;
  private after: string | undefined;
  private done = false;

  constructor(
    private readonly target: ContentPort,
    private readonly to: { bucket: string; prefix: string },
    /** Keys are relative to this prefix (the restore's root, above any key prefix). */
    private readonly root: string,
  ) {}

  private async head(): Promise<ListedObject | undefined> {
    while (this.at >= this.page.length && !this.done) {
      const p = await this.target.listPage(this.to.bucket, this.to.prefix, this.after, 1000);
      this.page = p.objects.map((o) => ({ ...o, key: o.key.slice(this.root.length) }));
      this.at = 0;
      this.after = p.objects.at(-1)?.key;
      if (!p.truncated || p.objects.length === 0) this.done = true;
    }
    return this.page[this.at];
  }

  /** The target object with this key, if any; keys before it that nobody asked for are an error. */
  async find(key: string): Promise<ListedObject | undefined> {
    for (;;) {
      const h = await this.head();
      if (!h || compareKeys(h.key, key) > 0) return undefined;
      this.at++;
      if (h.key === key) return h;
      throw new InputError([
        `--to s3://${this.to.bucket}/${this.root}${h.key}: not in the generation; a resumed restore goes only into a prefix that holds nothing but this restore's objects`,
      ]);
    }
  }

  /** The first target object after the last key asked for, if any. */
  async rest(): Promise<string | undefined> {
    const h = await this.head();
    return h ? `${this.root}${h.key}` : undefined;
  }
}

export interface VerifyFailure {
  key: string;
  versionId: string;
  problem: string;
}

export interface VerifyReport {
  source: string;
  generation: string;
  objects: number;
  checked: number;
  bytesRead: number;
  ok: boolean;
  failures: VerifyFailure[];
}

async function verifyEntry(
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
    if (isAwsError(err, 'notFound') || isUnknownVersion(err)) {
      return { problem: `version ${e.versionId} is missing from the vault`, bytes: 0 };
    }
    throw err;
  }
  if (got.size !== e.size)
    return { problem: `size ${got.size} bytes, manifest says ${e.size}`, bytes: got.size };
  if (got.sha256 !== e.sha256)
    return { problem: `SHA-256 ${got.sha256}, manifest says ${e.sha256}`, bytes: got.size };
  return { bytes: got.size };
}

/** Re-reads a generation's objects (all, or a sample) and compares them with the manifest. */
export async function verifyGeneration(
  vault: ContentPort,
  policy: Policy,
  req: { source: string; generation: string; sample?: number; concurrency?: number },
): Promise<VerifyReport> {
  const manifests = await generationManifests(vault, policy, req.source, req.generation);
  if (!manifests) throw new InputError([`--generation: ${req.source} has no generation ${req.generation}`]);
  const failures: VerifyFailure[] = [];
  let bytesRead = 0;
  let objects = 0;
  let checked = 0;
  const check = async (entries: ManifestEntry[]) => {
    await inParallel(entries, req.concurrency ?? 8, async (e) => {
      const r = await verifyEntry(vault, policy, req.source, e);
      bytesRead += r.bytes;
      if (r.problem) failures.push({ key: e.key, versionId: e.versionId, problem: r.problem });
    });
    checked += entries.length;
  };
  if (req.sample !== undefined) {
    const all = (await readManifest(vault, policy, req.source, req.generation)) ?? [];
    objects = all.length;
    await check(sampleEntries(all, req.sample, Date.now()));
  } else {
    // Shard by shard, a batch at a time: memory stays flat however large the generation.
    let batch: ManifestEntry[] = [];
    for await (const e of streamManifests(vault, policy.vault.bucket, manifests)) {
      objects++;
      batch.push(e);
      if (batch.length >= BATCH) {
        await check(batch);
        batch = [];
      }
    }
    await check(batch);
  }
  failures.sort((a, b) => a.key.localeCompare(b.key));
  return {
    source: req.source,
    generation: req.generation,
    objects,
    checked,
    bytesRead,
    ok: failures.length === 0,
    failures,
  };
}
