// Validation check (content): the objects restored into the isolated bucket
// (a sample spread over the generation, all of them when it is small) are
// re-read and their SHA-256 compared with the generation's manifest. Every
// object that does not match is named.
import { sha256OfStream } from '../../domain/content.ts';
import type { CheckResult } from '../../domain/validation-report.ts';
import { RESTORED_PREFIX_TYPE } from '../../restore/content.ts';
import type { RestoredItem } from '../../restore/types.ts';
import { parseS3Id } from './read.ts';
import type { CheckContext, CheckOutcome, ContentCheckAdapters } from './types.ts';

export async function checkContent(
  ctx: CheckContext<ContentCheckAdapters>,
  item: RestoredItem,
): Promise<CheckOutcome> {
  const where = item.resources.find((r) => r.type === RESTORED_PREFIX_TYPE)?.id;
  if (!where)
    return {
      checks: [
        { name: 'restored objects', status: 'fail', detail: 'the restore reported no restored prefix' },
      ],
    };
  const manifest = await ctx.ports.contentManifest(item.source, item.recoveryPoint.id);
  if (!manifest)
    return {
      checks: [
        {
          name: 'manifest',
          status: 'fail',
          detail: `generation ${item.recoveryPoint.id} of ${item.source} has no manifest`,
        },
      ],
    };
  const byKey = new Map(manifest.map((e) => [e.key, e]));
  const { bucket, key: prefix } = parseS3Id(where);
  const keys = await ctx.ports.listKeys(ctx.target, bucket, prefix);
  const sample = ctx.deps.policy.validation?.contentSample ?? 50;
  // A rehearsal restored the whole generation (its restore step says so); a validation a sample.
  const expected =
    item.recoveryPoint.details?.whole === true ? manifest.length : Math.min(sample, manifest.length);
  const checks: CheckResult[] = [
    {
      name: 'restored objects',
      status: keys.length === expected ? 'pass' : 'fail',
      detail: `${keys.length} restored of ${manifest.length} in the generation (expected ${expected}${expected === manifest.length ? ': all' : ': a sample'})`,
      value: keys.length,
    },
  ];
  const read = ctx.ports.readObject;
  const mismatches: string[] = [];
  for (const key of keys) {
    const rel = key.slice(prefix.length);
    const entry = byKey.get(rel);
    if (!entry) {
      mismatches.push(rel);
      checks.push({ name: `object ${rel}`, status: 'fail', detail: 'restored but not in the manifest' });
      continue;
    }
    const got = await sha256OfStream(read(ctx.target, bucket, key), entry.partSize);
    if (got.size !== entry.size || got.sha256 !== entry.sha256) {
      mismatches.push(rel);
      checks.push({
        name: `object ${rel}`,
        status: 'fail',
        detail: `SHA-256 ${got.sha256} (${got.size} bytes), manifest says ${entry.sha256} (${entry.size} bytes): vault version ${entry.versionId} is corrupted`,
      });
    }
  }
  if (ctx.runId) checks.push(await vaultVerify(ctx, ctx.runId, item));
  checks.push({
    name: 'sha256',
    status: mismatches.length === 0 && keys.length > 0 ? 'pass' : 'fail',
    detail:
      mismatches.length === 0
        ? `${keys.length} object(s) match the manifest`
        : `${mismatches.length} of ${keys.length} do not match: ${mismatches.slice(0, 10).join(', ')}`,
  });
  return { checks };
}

/**
 * The whole generation re-read in the vault by the machine's Distributed Map
 * (one child per shard, before the restores): every object's SHA-256 against
 * the manifest, not only the restored sample's.
 */
async function vaultVerify(
  ctx: CheckContext<ContentCheckAdapters>,
  runId: string,
  item: RestoredItem,
): Promise<CheckResult> {
  const v = await ctx.ports.contentVerified(runId, item.source, item.recoveryPoint.id);
  if (v.done < v.shards)
    return {
      name: 'vault verify',
      status: 'fail',
      detail: `the verify of the whole generation in the vault finished ${v.done} of ${v.shards} shard(s)`,
    };
  if (v.failureCount > 0)
    return {
      name: 'vault verify',
      status: 'fail',
      detail: `${v.failureCount} of ${v.objects} object(s) in the vault do not match the manifest: ${v.failures
        .slice(0, 10)
        .map((f) => `${f.key} (${f.problem})`)
        .join(', ')}`,
      value: v.failureCount,
    };
  return {
    name: 'vault verify',
    status: 'pass',
    detail: `${v.objects} object(s) of the generation re-read in the vault (${v.shards} shard(s)): every SHA-256 matches the manifest`,
    value: v.objects,
  };
}
