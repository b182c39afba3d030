// Content backup: the options, the generation plan and the shard checkpoint,
// as the three steps (plan, shard, finish) save them in the vault.
import type { CopyOptions } from '../../aws/content.ts';
import type { IndexedShard, ShardCounts, ShardRange } from '../../domain/content-shards.ts';
import type { RunResult } from '../../runtime/result.ts';

export interface ContentBackupOptions {
  /** Stop starting new chunks after this many ms (the Lambda has 15 minutes; the loop continues). */
  budgetMs?: number;
  /** Source keys per chunk (one part file and one checkpoint per chunk). */
  chunkKeys?: number;
  /** Copies in flight (per shard). */
  concurrency?: number;
  /** Keys per shard of a new plan; a shard grown past twice this is split in the next plan. */
  shardKeys?: number;
  /** Shards run at once in-process (the state machine's Map has its own MaxConcurrency). */
  shardConcurrency?: number;
  /** Only these sources (names). */
  sources?: string[];
  copy?: Pick<CopyOptions, 'multipartThreshold' | 'partLimits'>;
  /** Wall clock for the budget (ms). Never used for naming: that comes from the event. */
  clock?: () => number;
}

export type Options = Required<Omit<ContentBackupOptions, 'sources' | 'copy'>> &
  Pick<ContentBackupOptions, 'copy'>;

/** A previous generation's manifest that a shard of the new one reads its range from. */
export interface PreviousShard extends Omit<ShardRange, 'shard'> {
  key: string;
}

/** `work/<generation>/plan.json`: written before the first copy, read by every step. */
export interface GenerationPlan {
  format: 'kura-content-plan/1';
  source: string;
  generation: string;
  /** Wall-clock time the generation's plan was made (ISO). */
  startedAt: string;
  previous?: string;
  /** The previous generation's manifests with their key ranges (one unbounded range for a single manifest). */
  previousShards: PreviousShard[];
  /** Shard i covers boundaries[i-1] < key <= boundaries[i]. */
  boundaries: string[];
  /** False while a first plan still lists the source (continued by the next invocation). */
  complete: boolean;
  listing?: { after?: string; seen: number; waiting?: string };
}

/** Saved in the vault after every chunk of a shard; read back by the next invocation and by finish. */
export interface ShardCheckpoint extends ShardCounts {
  shard: number;
  /** Wall-clock time the shard's first invocation started (ISO): vault copies since then are this shard's. */
  startedAt: string;
  /** Last source key (relative) whose chunk is recorded in a part. */
  after?: string;
  parts: number;
  /** Keys deleted in the source (the first ones), and archived ones not copied. */
  deletedKeys: string[];
  archived: string[];
  /** A slice stopped here at its time budget, before starting the next chunk. */
  stopped?: boolean;
  /** Set when the shard manifest is written. */
  done?: Omit<IndexedShard, 'shard' | 'after' | 'upTo'>;
}

export interface ContentRunResult extends RunResult {
  generation: string;
  /** True when every selected source has a complete generation for this date (for a step: that step is done). */
  complete: boolean;
}

/** One child of the state machine's Map: a shard of a source's plan. */
export interface ShardItem {
  source: string;
  shard: number;
}

export interface ContentPlanResult extends ContentRunResult {
  /** Shards to run, when `complete` (every selected source planned). */
  items: ShardItem[];
}

export const DEFAULTS = {
  budgetMs: 600_000,
  chunkKeys: 10_000,
  concurrency: 32,
  shardKeys: 100_000,
  shardConcurrency: 4,
};
export const DELETED_KEYS_RECORDED = 10_000;
/** Per shard, in its checkpoint (the summary takes the first 10,000 over all shards). */
export const KEYS_RECORDED_PER_SHARD = 1_000;

export function resolveOptions(options: ContentBackupOptions): Options {
  return {
    budgetMs: options.budgetMs ?? DEFAULTS.budgetMs,
    chunkKeys: options.chunkKeys ?? DEFAULTS.chunkKeys,
    concurrency: options.concurrency ?? DEFAULTS.concurrency,
    shardKeys: options.shardKeys ?? DEFAULTS.shardKeys,
    shardConcurrency: options.shardConcurrency ?? DEFAULTS.shardConcurrency,
    clock: options.clock ?? Date.now,
    copy: options.copy,
  };
}
