// Use case (content class): one generation per source per scheduled day, at
// any size, in three steps. The content-backup state machine runs them as
// Plan, a Distributed Map of shards, and Finish; `contentBackup` runs the same
// steps in-process (kura invoke, tests, benchmarks).
//  - plan: the shard plan (key-range boundaries) is the previous generation's
//    (so day N+1 shards like day N, and each shard meets the same shard of
//    the previous generation), a shard that outgrew it split in two or more;
//    a first generation lists the source once to place the boundaries. The
//    plan is saved in the vault before any copy.
//  - shard: lists its key range and merges it with the same range of the
//    previous generation (two sorted streams: the listing and gzip JSON
//    lines), copies only new or changed objects server-side, and writes its
//    shard manifest. Work goes in chunks with a checkpoint after each, so a
//    slice that hits its time budget (or crashes) continues where it stopped.
//  - finish: writes the summary, then the generation's index, last: a
//    generation exists only when every shard of it is complete.
import type { ContentBackupPorts } from '../aws/content-generations.ts';
import { findSource, generationName, vaultLayout } from '../domain/content.ts';
import { shardRanges } from '../domain/content-shards.ts';
import type { ContentSourcePolicy, Policy } from '../policy/schema.ts';
import { InputError } from '../runtime/errors.ts';
import { inParallel } from '../runtime/parallel.ts';
import { forEachTarget, type MetricPoint, type TargetOutcome } from '../runtime/result.ts';
import { finishGeneration } from './content-backup/finish.ts';
import { ConcurrentRunError, FUNCTION_NAME, SourceJob } from './content-backup/job.ts';
import { planGeneration } from './content-backup/plan.ts';
import { runShard } from './content-backup/shard.ts';
import {
  type ContentBackupOptions,
  type ContentPlanResult,
  type ContentRunResult,
  type Options,
  resolveOptions,
  type ShardItem,
} from './content-backup/types.ts';

export type { ContentBackupPorts } from '../aws/content-generations.ts';
export { findSource } from '../domain/content.ts';
export type { GenerationSummary } from '../domain/content-shards.ts';
export { FUNCTION_NAME } from './content-backup/job.ts';
export type {
  ContentBackupOptions,
  ContentPlanResult,
  ContentRunResult,
  GenerationPlan,
  PreviousShard,
  ShardCheckpoint,
  ShardItem,
} from './content-backup/types.ts';

function selectSources(policy: Policy, names: string[] | undefined): ContentSourcePolicy[] {
  const unknown = (names ?? []).filter((s) => !policy.content.some((c) => c.name === s));
  if (unknown.length) {
    throw new InputError([
      `detail.sources: unknown content source(s) ${unknown.join(', ')}; expected names from the policy's content[]`,
    ]);
  }
  return policy.content.filter((c) => !names || names.includes(c.name));
}

/** Runs `work` for every source; a duplicate run that lost a race is `skipped`, not failed. */
async function eachSource(
  sources: ContentSourcePolicy[],
  work: (c: ContentSourcePolicy, outcome: TargetOutcome) => Promise<boolean>,
): Promise<{ targets: TargetOutcome[]; complete: boolean }> {
  let complete = true;
  const targets = await forEachTarget(
    sources,
    (c) => c.name,
    async (c, outcome) => {
      try {
        if (!(await work(c, outcome))) complete = false;
      } catch (err) {
        if (!(err instanceof ConcurrentRunError)) throw err;
        // Not a failure: the other invocation carries the generation on; the next one here resumes after it.
        outcome.status = 'skipped';
        outcome.actions.push(`${err.message}: this invocation stopped, nothing was overwritten`);
        complete = false;
      }
    },
  );
  if (targets.some((t) => t.status === 'failed')) complete = false;
  return { targets, complete };
}

function runResult(
  time: Date,
  policy: Policy,
  targets: TargetOutcome[],
  complete: boolean,
): ContentRunResult {
  const metrics: MetricPoint[] = targets.flatMap((t) => [
    {
      name: 'ContentObjectsCopied',
      value: Number(t.copied ?? 0),
      unit: 'Count' as const,
      dimensions: { source: t.target },
    },
    {
      name: 'ContentBytesCopied',
      value: Number(t.copiedBytes ?? 0),
      unit: 'Bytes' as const,
      dimensions: { source: t.target },
    },
    {
      name: 'ContentObjectsDeleted',
      value: Number(t.deleted ?? 0),
      unit: 'Count' as const,
      dimensions: { source: t.target },
    },
  ]);
  return {
    function: FUNCTION_NAME,
    time: time.toISOString(),
    generation: generationName(time, policy.timezone),
    ok: targets.every((t) => t.status !== 'failed'),
    complete,
    targets,
    warnings: [],
    metrics,
  };
}

/** Runs `work` on every selected source's job for this time; one result for the run. */
async function eachJob(
  time: Date,
  policy: Policy,
  ports: ContentBackupPorts,
  options: ContentBackupOptions,
  sources: ContentSourcePolicy[],
  work: (job: SourceJob, outcome: TargetOutcome, opts: Options) => Promise<boolean>,
): Promise<ContentRunResult> {
  const opts = resolveOptions(options);
  const started = opts.clock();
  const { targets, complete } = await eachSource(sources, (c, outcome) =>
    work(new SourceJob(policy, c, ports, opts, started, time), outcome, opts),
  );
  return runResult(time, policy, targets, complete);
}

/** The three steps in one invocation, shards in parallel: `kura invoke`, the tests and benchmarks. */
export async function contentBackup(
  time: Date,
  policy: Policy,
  ports: ContentBackupPorts,
  options: ContentBackupOptions = {},
): Promise<ContentRunResult> {
  const sources = selectSources(policy, options.sources);
  return eachJob(time, policy, ports, options, sources, async (job, outcome, opts) => {
    const plan = await planGeneration(job, outcome);
    if (!plan) return true;
    if (!plan.complete) {
      outcome.complete = false;
      return false;
    }
    const ranges = shardRanges(plan.boundaries);
    let done = 0;
    await inParallel(ranges, opts.shardConcurrency, async (r) => {
      if (await runShard(job, plan, r.shard, outcome)) done++;
    });
    if (done < ranges.length) {
      outcome.complete = false;
      outcome.actions.push(`${done} of ${ranges.length} shard(s) complete; the next invocation continues`);
      return false;
    }
    await finishGeneration(job, plan, outcome, true);
    return true;
  });
}

/** Plan: every selected source's shard plan; `items` are the Map's children once all are planned. */
export async function planContentBackup(
  time: Date,
  policy: Policy,
  ports: ContentBackupPorts,
  options: ContentBackupOptions = {},
): Promise<ContentPlanResult> {
  const items: ShardItem[] = [];
  const sources = selectSources(policy, options.sources);
  const result = await eachJob(time, policy, ports, options, sources, async (job, outcome) => {
    const plan = await planGeneration(job, outcome);
    if (!plan) return true;
    outcome.complete = false;
    if (!plan.complete) return false;
    for (const r of shardRanges(plan.boundaries)) items.push({ source: plan.source, shard: r.shard });
    return true;
  });
  return { ...result, items: result.complete ? items : [] };
}

/** One Map child: one slice of one shard (`complete` when its shard manifest exists). */
export async function runContentShard(
  time: Date,
  policy: Policy,
  ports: ContentBackupPorts,
  item: ShardItem,
  options: ContentBackupOptions = {},
): Promise<ContentRunResult> {
  const sources = [findSource(policy, item.source)];
  return eachJob(time, policy, ports, options, sources, async (job, outcome) => {
    const saved = await job.readPlan();
    if (!saved?.plan.complete)
      throw new Error(
        `generation ${job.generation} of ${item.source} has no complete shard plan (s3://${policy.vault.bucket}/${vaultLayout.planKey(policy, item.source, job.generation)}); the plan step makes it first`,
      );
    outcome.generation = job.generation;
    outcome.shard = item.shard;
    const done = await runShard(job, saved.plan, item.shard, outcome);
    outcome.complete = done;
    return done;
  });
}

/** Finish: the index of every selected source whose shards are all complete, then pruning. */
export async function finishContentBackup(
  time: Date,
  policy: Policy,
  ports: ContentBackupPorts,
  options: ContentBackupOptions = {},
): Promise<ContentRunResult> {
  const sources = selectSources(policy, options.sources);
  return eachJob(time, policy, ports, options, sources, async (job, outcome) => {
    const saved = await job.readPlan();
    if (!saved) {
      // No plan left (its work files expire) for a generation completed days ago: a replay.
      if (await job.completedEarlier(outcome)) return true;
      throw new Error(`generation ${job.generation} of ${outcome.target} was not planned before finishing`);
    }
    await finishGeneration(job, saved.plan, outcome);
    return true;
  });
}
