// Restore step (content class): a generation of a content source, copied by
// vault version id into a bucket of the target (isolated) account, under a
// prefix of its own. Validation restores a sample, a restore the whole
// generation. Cleanup deletes only what the step wrote (the prefix was empty
// before: restore refuses a non-empty one).
import { createHash } from 'node:crypto';
import { parseS3Url, vaultLayout } from '../domain/content.ts';
import { InputError } from '../runtime/errors.ts';
import type { Deps } from '../aws/deps.ts';
import type { ContentRestorePorts } from '../aws/restore-ports.ts';
import type { GenerationSummary } from '../domain/content-shards.ts';
import { restoreGeneration } from './content-generation.ts';
import type {
  CreatedResource,
  IsolatedTarget,
  RecoveryPointRef,
  RestoredItem,
  RestoreStep,
} from './types.ts';

export const RESTORED_PREFIX_TYPE = 'kura::S3::Prefix';

/**
 * Where a restore step puts a generation in the target bucket:
 * kura-restore/content/<source>/<generation>/<runId>[-<part>]/.
 */
export function contentRestorePrefix(rp: RecoveryPointRef, opts: ContentRestoreOptions): string {
  // Part of a generation (keyPrefix) goes beside the whole one, so both may be asked for in one run.
  const part = opts.keyPrefix
    ? `-${createHash('sha256').update(opts.keyPrefix).digest('hex').slice(0, 6)}`
    : '';
  return opts.prefix ?? `kura-restore/content/${rp.source}/${rp.id}/${opts.runId ?? 'manual'}${part}/`;
}

export interface ContentRestoreOptions {
  /** Names the prefix: kura-restore/content/<source>/<generation>/<runId>/. */
  runId?: string;
  /** Overrides the prefix (must end in "/"). */
  prefix?: string;
  /** Restore this many objects spread over the generation (validation); default all. */
  sample?: number;
  /** Restore only the keys under this prefix, relative to the source (a restore request's content.prefix). */
  keyPrefix?: string;
  purpose?: 'validation' | 'restore';
  /** How long one call may run before it returns NotReadyError and is called again (restore item). */
  maxWaitSeconds?: number;
}

export function options(opts: Record<string, unknown> | undefined): ContentRestoreOptions {
  const o = (opts ?? {}) as ContentRestoreOptions;
  const problems: string[] = [];
  if (o.runId !== undefined && !/^[a-z0-9-]{1,40}$/.test(o.runId))
    problems.push(`runId "${o.runId}": expected 1-40 characters a-z, 0-9, -`);
  if (o.prefix !== undefined && (!o.prefix.endsWith('/') || o.prefix.startsWith('/')))
    problems.push(`prefix "${o.prefix}": expected a relative prefix ending in "/"`);
  if (o.keyPrefix !== undefined && (typeof o.keyPrefix !== 'string' || o.keyPrefix.startsWith('/')))
    problems.push(`keyPrefix "${o.keyPrefix}": expected a key prefix relative to the source`);
  if (o.sample !== undefined && (!Number.isInteger(o.sample) || o.sample < 1))
    problems.push(`sample ${o.sample}: expected a positive whole number`);
  if (problems.length) throw new InputError(problems.map((p) => `content restore options: ${p}`));
  return o;
}

/** The content recovery points, one per generation (also the plan's listing: only the port it reads). */
export async function listContent(
  ports: Pick<ContentRestorePorts, 'vault'>,
  deps: Deps,
  opts: { source?: string; before?: Date } = {},
): Promise<RecoveryPointRef[]> {
  const { policy } = deps;
  const vault = ports.vault(deps.clients, policy);
  const out: RecoveryPointRef[] = [];
  for (const c of policy.content.filter((s) => !opts.source || s.name === opts.source)) {
    for (const g of await vault.generations.list(c.name)) {
      const raw = await vault.objects.get({
        bucket: policy.vault.bucket,
        key: vaultLayout.summaryKey(policy, c.name, g),
      });
      const summary = raw ? (JSON.parse(raw.toString('utf8')) as Partial<GenerationSummary>) : {};
      const time = summary.time ?? `${g}T00:00:00.000Z`;
      if (opts.before && new Date(time) > opts.before) continue;
      out.push({
        class: 'content',
        source: c.name,
        id: g,
        time,
        region: policy.region,
        details: {
          manifest: `s3://${policy.vault.bucket}/${vaultLayout.manifestKey(policy, c.name, g)}`,
          objects: summary.objects,
          bytes: summary.bytes,
        },
      });
    }
  }
  return out.sort((a, b) => b.time.localeCompare(a.time) || a.source.localeCompare(b.source));
}

/** The content restore step over the given adapters. */
export const contentStep = (ports: ContentRestorePorts): RestoreStep => ({
  class: 'content',

  list: (deps, opts) => listContent(ports, deps, opts),

  async restore(
    deps: Deps,
    target: IsolatedTarget,
    rp: RecoveryPointRef,
    raw?: Record<string, unknown>,
  ): Promise<RestoredItem> {
    const opts = options(raw);
    if (!target.bucket)
      throw new InputError([
        'content restore: the target has no bucket; expected IsolatedTarget.bucket for restored content',
      ]);
    const prefix = contentRestorePrefix(rp, opts);
    const outcome = await restoreGeneration(
      ports.vault(deps.clients, deps.policy),
      ports.content(target.clients, target.region),
      deps.policy,
      {
        source: rp.source,
        generation: rp.id,
        to: { bucket: target.bucket, prefix },
        sample: opts.sample,
        ...(opts.keyPrefix ? { keyPrefix: opts.keyPrefix } : {}),
        // A whole generation under a run id: shard progress under restores/<runId>/, so the
        // next call (and the restore machine's Map children before it) continue, and a
        // re-run of the same id finds its own objects (checked by SHA-256) in its own prefix.
        ...(opts.runId && opts.sample === undefined
          ? {
              id: opts.runId,
              store: ports.progress?.(deps.clients, deps.policy),
              resume: true,
              run: { budgetMs: (opts.maxWaitSeconds ?? 600) * 1000 },
            }
          : {}),
      },
      () => new Date(deps.clients.timer.now()),
    );
    const resource: CreatedResource = {
      type: RESTORED_PREFIX_TYPE,
      id: outcome.to,
      account: target.accountId,
      region: target.region,
      cleanup: `aws s3 rm --recursive ${outcome.to}`,
    };
    return {
      class: 'content',
      source: rp.source,
      recoveryPoint: {
        ...rp,
        details: {
          ...rp.details,
          restoredObjects: outcome.objects,
          restoredBytes: outcome.bytes,
          // The whole generation (a restore, a rehearsal), not a validation's sample: its check expects all of it.
          whole: opts.sample === undefined && !opts.keyPrefix,
        },
      },
      resources: [resource],
      endpoint: outcome.to,
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
      durationSeconds: outcome.durationSeconds,
    };
  },

  cleanup: (target, resources) => cleanupContent(ports, target, resources),
});

/** The content step's cleanup (also alone: shared/edge/restore-cleanups.ts). */
export async function cleanupContent(
  ports: Pick<ContentRestorePorts, 'content'>,
  target: IsolatedTarget,
  resources: CreatedResource[],
): Promise<void> {
  const port = ports.content(target.clients, target.region);
  for (const r of resources.filter((x) => x.type === RESTORED_PREFIX_TYPE)) {
    const { bucket, prefix } = parseS3Url(r.id);
    // Never a whole bucket: restore always writes under a prefix of its own.
    if (!prefix) throw new Error(`refusing to clean up ${r.id}: not a restore prefix`);
    await port.deleteKeys(bucket, await port.listKeys(bucket, prefix));
  }
}
