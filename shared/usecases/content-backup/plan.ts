// Content backup, step 1 (plan): the generation's shard plan, the previous
// generation's boundaries carried over (a shard grown past 2 x shardKeys
// split), or placed by one listing of a first generation; saved before any copy.
import { vaultLayout } from '../../domain/content.ts';
import { BoundaryPicker, manifestEntries } from '../../domain/content-shards.ts';
import type { TargetOutcome } from '../../runtime/result.ts';
import { conditionalPut, isContent, type SourceJob } from './job.ts';
import type { GenerationPlan } from './types.ts';

/** The generation's plan, made or continued; undefined when the generation is already complete. */
export async function planGeneration(
  job: SourceJob,
  outcome: TargetOutcome,
): Promise<GenerationPlan | undefined> {
  const { policy, port, cfg, generation } = job;
  outcome.generation = generation;
  const planKey = vaultLayout.planKey(policy, cfg.name, generation);
  const saved = await job.readPlan();
  let plan: GenerationPlan;
  if (saved) {
    plan = saved.plan;
    if (plan.complete) {
      if (await job.isComplete()) {
        await job.alreadyComplete(outcome);
        return undefined;
      }
      return plan;
    }
  } else {
    const kept = await job.generations.list(cfg.name);
    if (kept.includes(generation)) {
      await job.alreadyComplete(outcome);
      return undefined;
    }
    plan = {
      format: 'kura-content-plan/1',
      source: cfg.name,
      generation,
      startedAt: new Date(job.opts.clock()).toISOString(),
      previous: kept.find((g) => g < generation),
      previousShards: [],
      boundaries: [],
      complete: false,
    };
    if (plan.previous) await planFromPrevious(job, plan, plan.previous);
  }
  if (!plan.complete) await planByListing(job, plan);
  // Saved before the first copy; a plan made by another invocation meanwhile is never replaced.
  await conditionalPut(
    port,
    `generation ${generation} was planned by another run`,
    job.vault,
    planKey,
    JSON.stringify(plan),
    {
      contentType: 'application/json',
      ...(saved ? { ifMatch: saved.etag } : { ifNoneMatch: '*' as const }),
    },
  );
  outcome.shards = plan.boundaries.length + 1;
  outcome.actions.push(
    plan.complete
      ? `generation ${generation}: ${plan.boundaries.length + 1} shard(s)${plan.previous ? ` against ${plan.previous}` : ''}`
      : `generation ${generation}: planning, ${plan.listing?.seen ?? 0} keys listed so far`,
  );
  return plan;
}

/** The previous generation's plan, carried over; a shard that grew past 2 x shardKeys is split. */
async function planFromPrevious(job: SourceJob, plan: GenerationPlan, previous: string): Promise<void> {
  const { policy, port, cfg, opts } = job;
  const index = await job.generations.readIndex(cfg.name, previous);
  if (!index) {
    // A generation written as one manifest (before sharding): the plan comes from its keys.
    const key = vaultLayout.manifestKey(policy, cfg.name, previous);
    plan.previousShards = [{ key }];
    const picker = new BoundaryPicker(opts.shardKeys);
    for await (const e of manifestEntries(port.read({ bucket: job.vault, key }))) picker.add(e.key);
    plan.boundaries = picker.boundaries;
    plan.complete = true;
    return;
  }
  plan.previousShards = index.shards.map(({ key, after, upTo }) => ({
    key,
    ...(after === undefined ? {} : { after }),
    ...(upTo === undefined ? {} : { upTo }),
  }));
  const boundaries: string[] = [];
  for (const s of index.shards) {
    if (s.objects > 2 * opts.shardKeys) {
      const picker = new BoundaryPicker(opts.shardKeys);
      for await (const e of manifestEntries(port.read({ bucket: job.vault, key: s.key }))) picker.add(e.key);
      boundaries.push(...picker.boundaries);
    }
    if (s.upTo !== undefined) boundaries.push(s.upTo);
  }
  plan.boundaries = boundaries;
  plan.complete = true;
}

/** A first generation: one listing of the source places a boundary every shardKeys keys. */
async function planByListing(job: SourceJob, plan: GenerationPlan): Promise<void> {
  const { source, src } = job;
  const picker = new BoundaryPicker(job.opts.shardKeys, plan.boundaries, plan.listing?.seen ?? 0);
  picker.restoreWaiting(plan.listing?.waiting);
  let after = plan.listing?.after;
  for (let first = true; ; first = false) {
    if (!first && !job.budgetLeft()) {
      plan.boundaries = [...picker.boundaries];
      plan.listing = { seen: picker.seen, ...(after === undefined ? {} : { after }) };
      if (picker.waiting !== undefined) plan.listing.waiting = picker.waiting;
      return;
    }
    const page = await source.listPage(
      src.bucket,
      src.prefix,
      after === undefined ? undefined : src.prefix + after,
      1000,
    );
    for (const o of page.objects) {
      const rel = o.key.slice(src.prefix.length);
      if (isContent(rel, o.size)) picker.add(rel);
    }
    const last = page.objects.at(-1)?.key;
    if (last !== undefined) after = last.slice(src.prefix.length);
    if (!page.truncated || last === undefined) break;
  }
  plan.boundaries = [...picker.boundaries];
  plan.complete = true;
  delete plan.listing;
}
