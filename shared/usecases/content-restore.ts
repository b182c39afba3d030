// Use cases (content class): put a generation back (all of it, or a sample)
// under a prefix of any bucket, and verify a generation by re-reading the
// vault's bytes and comparing them with the manifest's S3-computed SHA-256.
import type { ContentPort, CopyOptions } from '../aws/content.ts';
import { inParallel } from '../aws/content.ts';
import { isAwsError, isUnknownVersion } from '../aws/errors.ts';
import {
  GENERATION_NAME,
  type ManifestEntry,
  parseS3Url,
  sampleEntries,
  sha256OfStream,
  vaultLayout,
} from '../domain/content.ts';
import type { Policy } from '../policy/schema.ts';
import { assertInsideTarget } from '../domain/restore-paths.ts';
import { InputError } from '../runtime/errors.ts';
import { findSource, listGenerations, readManifest } from './content-backup.ts';

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
}

export interface RestoreOutcome {
  source: string;
  generation: string;
  to: string;
  objects: number;
  bytes: number;
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
  const manifest = await readManifest(vault, policy, req.source, req.generation);
  if (!manifest) throw new InputError([`--generation: ${req.source} has no generation ${req.generation}`]);
  const keyPrefix = req.keyPrefix ?? '';
  const wanted = keyPrefix ? manifest.filter((e) => e.key.startsWith(keyPrefix)) : manifest;
  if (keyPrefix && wanted.length === 0)
    throw new InputError([
      `prefix "${keyPrefix}": no object of ${req.source} generation ${req.generation} starts with it; expected a key prefix relative to the source`,
    ]);
  // Where this restore writes: only that part must be empty (and is what cleanup removes).
  const to = { bucket: req.to.bucket, prefix: req.to.prefix + keyPrefix };
  await assertEmptyTarget(target, to);
  const entries =
    req.sample === undefined ? wanted : sampleEntries(wanted, req.sample, Date.parse(req.generation));
  // Checked before anything is copied: one bad key refuses the whole restore.
  for (const e of entries) assertInsideTarget(e.key, `content key of ${req.source}`);
  let bytes = 0;
  const sameAccount = vault === target;
  // Streams hold up to two 8 MiB parts each: fewer in flight than server-side copies.
  await inParallel(entries, req.concurrency ?? (sameAccount ? 32 : 8), async (e) => {
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
  });
  const finished = clock();
  return {
    source: req.source,
    generation: req.generation,
    to: `s3://${to.bucket}/${to.prefix}`,
    objects: entries.length,
    bytes,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: (finished.getTime() - started.getTime()) / 1000,
  };
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
  const manifest = await readManifest(vault, policy, req.source, req.generation);
  if (!manifest) throw new InputError([`--generation: ${req.source} has no generation ${req.generation}`]);
  const entries = req.sample === undefined ? manifest : sampleEntries(manifest, req.sample, Date.now());
  const failures: VerifyFailure[] = [];
  let bytesRead = 0;
  await inParallel(entries, req.concurrency ?? 8, async (e) => {
    const r = await verifyEntry(vault, policy, req.source, e);
    bytesRead += r.bytes;
    if (r.problem) failures.push({ key: e.key, versionId: e.versionId, problem: r.problem });
  });
  failures.sort((a, b) => a.key.localeCompare(b.key));
  return {
    source: req.source,
    generation: req.generation,
    objects: manifest.length,
    checked: entries.length,
    bytesRead,
    ok: failures.length === 0,
    failures,
  };
}
