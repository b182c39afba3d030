// Content backup: one source's generation for one scheduled time, the context
// every step (plan, shard, finish) works in, and the conditional writes that
// keep a duplicate invocation from overwriting another's plan or checkpoint.
import type { ContentPort } from '../../aws/content.ts';
import type { ContentBackupPorts, GenerationStore } from '../../aws/content-generations.ts';
import { type ContentSource, contentSource, generationName, vaultLayout } from '../../domain/content.ts';
import type { ContentSourcePolicy, Policy } from '../../policy/schema.ts';
import { isAwsError } from '../../runtime/aws-errors.ts';
import type { TargetOutcome } from '../../runtime/result.ts';
import { pruneGenerations } from './prune.ts';
import type { GenerationPlan, Options } from './types.ts';

export const FUNCTION_NAME = 'content-backup';

/** Another invocation wrote the checkpoint, plan or index this one was about to write (a duplicate delivery). */
export class ConcurrentRunError extends Error {
  override name = 'ConcurrentRunError';
}

/**
 * A conditional write (If-Match, If-None-Match) of `body`. A failed condition
 * means another run got there first, unless the object now holds exactly these
 * bytes: then the write was this run's and only its answer was lost (the SDK
 * retried a request S3 had applied), and the run carries on.
 */
export async function conditionalPut(
  port: ContentPort,
  what: string,
  bucket: string,
  key: string,
  body: string,
  opts: { contentType: string; tags?: Record<string, string>; ifMatch?: string; ifNoneMatch?: '*' },
): Promise<{ etag?: string; versionId?: string }> {
  try {
    return await port.put(bucket, key, body, opts);
  } catch (err) {
    if (!isAwsError(err, 'preconditionFailed')) throw err;
    const now = await port.getWithEtag({ bucket, key });
    if (now && now.body.toString('utf8') === body) return { etag: now.etag };
    throw new ConcurrentRunError(what);
  }
}

export const json = (body: Buffer) => JSON.parse(body.toString('utf8'));
export const shardLabel = (n: number) => `shard ${n}`;

/** "Folder" placeholder objects carry no content. */
export function isContent(rel: string, size: number): boolean {
  return !(rel === '' || (rel.endsWith('/') && size === 0));
}

export class SourceJob {
  readonly generation: string;
  readonly src: ContentSource;
  /** The vault, as kura's own role. */
  readonly port: ContentPort;
  /** Lists the source and copies it into the vault: its owning account's kura-source role with sources. */
  readonly source: ContentPort;
  readonly generations: GenerationStore;

  constructor(
    readonly policy: Policy,
    readonly cfg: ContentSourcePolicy,
    ports: ContentBackupPorts,
    readonly opts: Options,
    readonly started: number,
    readonly time: Date,
  ) {
    this.generation = generationName(time, policy.timezone);
    this.src = contentSource(cfg);
    this.port = ports.content;
    this.source = ports.sourceFor?.(cfg) ?? ports.content;
    this.generations = ports.generations;
  }

  get vault(): string {
    return this.policy.vault.bucket;
  }

  budgetLeft(): boolean {
    return this.opts.clock() - this.started < this.opts.budgetMs;
  }

  async isComplete(): Promise<boolean> {
    return Boolean(
      await this.port.head({
        bucket: this.vault,
        key: vaultLayout.indexKey(this.policy, this.cfg.name, this.generation),
      }),
    );
  }

  async alreadyComplete(outcome: TargetOutcome): Promise<void> {
    outcome.status = 'skipped';
    outcome.actions.push(`generation ${this.generation} is already complete`);
    outcome.complete = true;
    // A run that stopped between the index and its seal seals it now.
    await this.generations.sealIndex(this.cfg.name, this.generation);
    // A run that stopped after the index but before pruning prunes now (idempotent).
    const pruned = await pruneGenerations(this, await this.generations.list(this.cfg.name));
    if (pruned.length) outcome.pruned = pruned;
  }

  /** True (and the outcome says so, after pruning) when the generation is listed as complete. */
  async completedEarlier(outcome: TargetOutcome): Promise<boolean> {
    outcome.generation = this.generation;
    if (!(await this.generations.list(this.cfg.name)).includes(this.generation))
      return false;
    await this.alreadyComplete(outcome);
    return true;
  }

  async readPlan(): Promise<{ plan: GenerationPlan; etag: string } | undefined> {
    const saved = await this.port.getWithEtag({
      bucket: this.vault,
      key: vaultLayout.planKey(this.policy, this.cfg.name, this.generation),
    });
    return saved ? { plan: json(saved.body) as GenerationPlan, etag: saved.etag } : undefined;
  }
}
