// Content backup, step 3 (finish): every shard's checkpoint must say done;
// then the summary, and the generation index last (a generation exists only
// when complete), then pruning.
import { vaultLayout } from '../../domain/content.ts';
import {
  type GenerationIndex,
  type GenerationSummary,
  type IndexedShard,
  type ShardCounts,
  shardRanges,
} from '../../domain/content-shards.ts';
import { managedTags } from '../../domain/tags.ts';
import { inParallel } from '../../runtime/parallel.ts';
import type { TargetOutcome } from '../../runtime/result.ts';
import { conditionalPut, FUNCTION_NAME, json, type SourceJob, shardLabel } from './job.ts';
import { pruneGenerations } from './prune.ts';
import { DELETED_KEYS_RECORDED, type GenerationPlan, type ShardCheckpoint } from './types.ts';

/** Writes the summary and then the index (last); prunes. */
export async function finishGeneration(
  job: SourceJob,
  plan: GenerationPlan,
  outcome: TargetOutcome,
  planChecked = false,
): Promise<void> {
  const { policy, port, cfg, generation, vault } = job;
  outcome.generation = generation;
  // A separate finish step may be a retry after the index was written; right after
  // planning in the same invocation the plan step has just looked.
  if (!planChecked && (await job.isComplete())) {
    await job.alreadyComplete(outcome);
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
  const sum = (k: keyof ShardCounts) => cps.reduce((n, c) => n + (c[k] ?? 0), 0);
  const counts = {
    listed: sum('listed'),
    copied: sum('copied'),
    copiedBytes: sum('copiedBytes'),
    reused: sum('reused'),
    unchanged: sum('unchanged'),
    deleted: sum('deleted'),
    locksExtended: sum('locksExtended'),
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
    time: job.time.toISOString(),
    sourceUrl: cfg.source,
    finishedAt: new Date(job.opts.clock()).toISOString(),
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
    time: job.time,
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
  // Last: the index is the generation, written once (another run's index is never replaced),
  // then sealed: readers trust it, and through it its shards, only as sealed.
  const indexBody = JSON.stringify(index);
  const written = await conditionalPut(
    port,
    `generation ${generation} was completed by another run`,
    vault,
    indexKey,
    indexBody,
    {
      contentType: 'application/json',
      tags,
      ifNoneMatch: '*',
    },
  );
  await job.generations.sealIndex(cfg.name, generation, { body: indexBody, versionId: written.versionId });
  outcome.actions.push(
    `generation ${generation}: ${objects} objects in ${shards.length} shard(s), ${counts.copied} copied (${counts.copiedBytes} bytes), ${counts.unchanged} unchanged (${counts.locksExtended} lock(s) lengthened), ${counts.deleted} deleted in the source`,
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
  outcome.pruned = await pruneGenerations(job, await job.generations.list(cfg.name));
}
