// Restore (content class, at scale): the shard verify: a chunk of a shard's
// manifest entries re-read from the vault, each version's size and SHA-256
// compared with its entry, the failures recorded in the shard's progress.
import type { ContentPort } from '../aws/content.ts';
import { type ManifestEntry, sha256OfStream, vaultLayout } from '../domain/content.ts';
import type { Policy } from '../policy/schema.ts';
import { isAwsError, isUnknownVersion } from '../runtime/aws-errors.ts';
import { inParallel } from '../runtime/parallel.ts';
import {
  type ContentJob,
  FAILURES_RECORDED,
  type ShardedPorts,
  type ShardProgress,
  type ShardRunOptions,
} from './content-shard-job.ts';

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

/** Re-reads a chunk's vault versions and compares them with the manifest. */
export function verifyChunk(
  ports: ShardedPorts,
  policy: Policy,
  job: ContentJob,
  p: ShardProgress,
  opts: ShardRunOptions,
) {
  return async (chunk: ManifestEntry[]) => {
    await inParallel(chunk, opts.concurrency ?? 8, async (e) => {
      const r = await verifyEntry(ports.vault.objects, policy, job.source, e);
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
