// Content backup, step 2 (one Map child): runs or continues one shard in
// chunks, a part file and a checkpoint after each, so that a slice that hits
// its time budget (or crashes) continues where it stopped.
import { encodeManifest, type ManifestEntry, vaultLayout } from '../../domain/content.ts';
import {
  manifestEntries,
  PreviousCursor,
  rangesOverlap,
  type ShardRange,
  shardRanges,
} from '../../domain/content-shards.ts';
import { InputError } from '../../runtime/errors.ts';
import type { TargetOutcome } from '../../runtime/result.ts';
import { conditionalPut, json, type SourceJob, shardLabel } from './job.ts';
import { copyChunk } from './shard-chunk.ts';
import { writeShardManifest } from './shard-manifest.ts';
import type { GenerationPlan, ShardCheckpoint } from './types.ts';

/** Runs or continues one shard; true when its shard manifest exists. */
export async function runShard(
  job: SourceJob,
  plan: GenerationPlan,
  n: number,
  outcome: TargetOutcome,
): Promise<boolean> {
  const { policy, port, cfg, generation } = job;
  const range = shardRanges(plan.boundaries)[n];
  if (!range)
    throw new InputError([
      `item.shard: ${n} is not a shard of generation ${generation} of ${cfg.name}; expected 0 to ${plan.boundaries.length}`,
    ]);
  const cpKey = vaultLayout.shardCheckpointKey(policy, cfg.name, generation, n);
  const saved = await port.getWithEtag({ bucket: job.vault, key: cpKey });
  let etag = saved?.etag ?? '';
  let cp: ShardCheckpoint;
  /** Writes the checkpoint under `cond`; another run's write in between stops this one. */
  const putCheckpoint = async (
    by: 'started' | 'continued',
    cond: { ifNoneMatch: '*' } | { ifMatch: string },
  ): Promise<void> => {
    const put = await conditionalPut(
      port,
      `generation ${generation} was ${by} by another run`,
      job.vault,
      cpKey,
      JSON.stringify(cp),
      { contentType: 'application/json', ...cond },
    );
    etag = put.etag ?? '';
  };
  if (saved) {
    cp = json(saved.body) as ShardCheckpoint;
    if (cp.done) return true;
    outcome.actions.push(
      `continued ${shardLabel(n)} of ${generation} after ${cp.after ?? range.after ?? '(start)'} (${cp.parts} parts done)`,
    );
  } else {
    cp = {
      shard: n,
      startedAt: new Date(job.opts.clock()).toISOString(),
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
    await putCheckpoint('started', { ifNoneMatch: '*' });
  }
  // Only if the checkpoint is still the one this run read: a second invocation of the
  // same shard (a duplicate delivery) that moved it on keeps going, this one stops.
  const saveCheckpoint = () => putCheckpoint('continued', { ifMatch: etag });
  // A slice that stopped at its budget said so: nothing of its next chunk was copied. Any
  // other checkpoint may be followed by a crashed chunk, whose copies are looked for.
  let atRisk = saved !== undefined && !cp.stopped;
  if (cp.stopped) {
    delete cp.stopped;
    await saveCheckpoint();
  }
  const resumeAfter = cp.after ?? range.after;
  const cursor = new PreviousCursor(previousEntries(job, plan, range), resumeAfter, range.upTo);
  try {
    for (let first = true; ; first = false) {
      if (!first && !job.budgetLeft()) {
        cp.stopped = true;
        await saveCheckpoint();
        outcome.actions.push(
          `${shardLabel(n)}: time budget reached after ${cp.parts} parts; continues after ${cp.after}`,
        );
        return false;
      }
      const chunk = await copyChunk(job, cp, range, cursor, atRisk);
      atRisk = false;
      if (chunk.finished) {
        cp.done = await writeShardManifest(job, cp, chunk.entries);
        await saveCheckpoint();
        return true;
      }
      const seq = cp.parts + 1;
      await port.put(
        job.vault,
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
async function* previousEntries(
  job: SourceJob,
  plan: GenerationPlan,
  range: ShardRange,
): AsyncGenerator<ManifestEntry> {
  for (const p of plan.previousShards) {
    if (!rangesOverlap({ shard: 0, ...p }, range)) continue;
    yield* manifestEntries(job.port.read({ bucket: job.vault, key: p.key }));
  }
}
