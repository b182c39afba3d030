// Use case: the content-restore-shard function, the Map children of a whole
// content generation restored in the isolated account (restore machine) or
// verified in the vault (validation machine). `items` turns the run's content
// items into one Map item per shard of each generation's stored plan; `shard`
// runs or continues one of them for one time-boxed slice (the child's Choice
// loop calls again until it is complete). Progress lives in the vault under
// restores/<id>/content/ (content-sharded.ts), so every call resumes there.
import type { ContentPort } from '../aws/content.ts';
import type { VaultContent } from '../aws/content-generations.ts';
import type { Policy } from '../policy/schema.ts';
import { contentRestorePrefix, options } from '../restore/content.ts';
import {
  type ContentJob,
  type JobShard,
  jobShards,
  type ProgressStore,
  type ShardRunOptions,
} from '../restore/content-shard-job.ts';
import { runJobShard } from '../restore/content-sharded.ts';
import type { ItemRecord, RestorePlan } from '../restore/plan.ts';
import { InputError } from '../runtime/errors.ts';
import { planKey, type ValidationPlan } from './validation/records.ts';

/** One Map child: a shard of one job. `isolated`: the target is the isolated account's bucket. */
export interface ContentShardItem {
  job: ContentJob;
  shard: JobShard;
  isolated: boolean;
  tuning?: ShardTuning;
}

/** A slice's budget, chunk size and checkpoint interval (tests force small ones). */
export interface ShardTuning {
  budgetSeconds?: number;
  chunkKeys?: number;
  checkpointSeconds?: number;
}

/** What the shard children act through (built at the edge: shared/edge/ports.ts). */
export interface ContentShardPorts {
  policy: Policy;
  /** The vault, with kura's own credentials: its objects and generations. */
  vault: VaultContent;
  /** restores/<id>/…: restore plans and item records, and the shards' progress. */
  records: ProgressStore;
  /** The isolated account's restore bucket (made ready) and a port acting there. */
  isolated(): Promise<{ bucket: string; port: ContentPort }>;
  /** A validation run's plan (the content generations it validates). */
  validationPlan(runId: string): Promise<ValidationPlan | undefined>;
}

/**
 * Restore machine: the shards of its content items' generations. A generation
 * of one shard gives none: the item step restores it in one call, at the cost
 * of a restore before sharding. Items already done are left out.
 */
export async function restoreShardItems(
  input: { requestId: string; keys: string[]; tuning?: ShardTuning },
  ports: ContentShardPorts,
): Promise<{ items: ContentShardItem[] }> {
  if (input.keys.length === 0) return { items: [] };
  const { records, vault } = ports;
  const state = await records.get<{ plan: RestorePlan }>(input.requestId, 'state.json');
  if (!state)
    throw new InputError([
      `restore ${input.requestId}: no recorded plan (restores/${input.requestId}/state.json)`,
    ]);
  // The isolated account is reached only for a generation of several shards.
  let bucket: string | undefined;
  const items: ContentShardItem[] = [];
  for (const key of input.keys) {
    const item = state.plan.items.find((i) => i.key === key);
    if (!item || item.class !== 'content') continue;
    const opts = options({ ...item.options, runId: input.requestId });
    const job: ContentJob = {
      id: input.requestId,
      mode: 'restore',
      source: item.source,
      generation: item.recoveryPoint.id,
      to: { bucket: '', prefix: contentRestorePrefix(item.recoveryPoint, opts) },
      ...(opts.keyPrefix ? { keyPrefix: opts.keyPrefix } : {}),
    };
    const shards = await jobShards(vault, job);
    if (shards.length < 2) continue;
    const record = await records.get<ItemRecord>(input.requestId, `items/${key}.json`);
    if (record?.status === 'done') continue;
    const b = bucket ?? (await ports.isolated()).bucket;
    bucket = b;
    job.to = { bucket: b, prefix: job.to?.prefix ?? '' };
    // Every slice reads its shard's progress (a retried first slice too): a Map child never
    // starts a shard from zero once it has a record.
    for (const shard of shards)
      items.push({ job, shard, isolated: true, ...(input.tuning ? { tuning: input.tuning } : {}) });
  }
  return { items };
}

/** Map child: runs or continues one shard for one slice. */
export async function runShardItem(
  item: ContentShardItem,
  ports: ContentShardPorts,
): Promise<{ complete: boolean; shard: number; objects: number }> {
  const { vault } = ports;
  const target = item.isolated ? (await ports.isolated()).port : vault.objects;
  const t = item.tuning ?? {};
  const opts: ShardRunOptions = {
    ...(t.budgetSeconds !== undefined ? { budgetMs: t.budgetSeconds * 1000 } : {}),
    ...(t.chunkKeys !== undefined ? { chunkKeys: t.chunkKeys } : {}),
    ...(t.checkpointSeconds !== undefined ? { checkpointMs: t.checkpointSeconds * 1000 } : {}),
  };
  const r = await runJobShard(
    { vault, target, store: ports.records },
    ports.policy,
    item.job,
    item.shard,
    opts,
  );
  return { complete: r.complete, shard: item.shard.shard, objects: r.progress.objects };
}

/**
 * Validation machine: the shards of every content generation the run
 * validates, to verify in the vault (every object re-read, its SHA-256
 * compared with the manifest). Progress under restores/validation-<runId>/;
 * the content check reads it (verifyProgress).
 */
export async function verifyShardItems(
  input: { runId: string; tuning?: ShardTuning },
  ports: ContentShardPorts,
): Promise<{ items: ContentShardItem[] }> {
  const plan = await ports.validationPlan(input.runId);
  if (!plan)
    throw new InputError([`validation ${input.runId}: no plan at ${planKey(ports.policy, input.runId)}`]);
  const { vault } = ports;
  const items: ContentShardItem[] = [];
  for (const it of plan.items.filter((i) => i.class === 'content')) {
    const job = verifyJob(input.runId, it.source, it.recoveryPoint.id);
    for (const shard of await jobShards(vault, job))
      items.push({
        job,
        shard,
        isolated: false,
        ...(input.tuning ? { tuning: input.tuning } : {}),
      });
  }
  return { items };
}

/** The verify job of a validation run for one content generation. */
export const verifyJob = (runId: string, source: string, generation: string): ContentJob => ({
  id: `validation-${runId}`,
  mode: 'verify',
  source,
  generation,
});
