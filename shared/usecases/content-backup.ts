// Use case (content class): one generation per source per scheduled day. The
// source is listed once, page by page, and compared with the previous
// generation's manifest; only new or changed objects are copied (server-side)
// into the vault. Work goes in chunks: after each chunk its manifest lines are
// written as a part and the checkpoint is saved in the vault, so a run that
// hits its time budget (or crashes) continues where it stopped. The manifest
// is written last: a generation exists only when it is complete.
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ContentPort, CopyOptions } from '../aws/content.ts';
import { inParallel } from '../aws/content.ts';
import { isAwsError } from '../aws/errors.ts';
import {
  ARCHIVE_CLASSES,
  type ContentSource,
  compareKeys,
  contentSource,
  decodeManifest,
  diffChunk,
  encodeManifest,
  GENERATION_NAME,
  generationName,
  generationOfManifestKey,
  type ListedObject,
  type ManifestEntry,
  vaultLayout,
} from '../domain/content.ts';
import { planPruning } from '../domain/retention.ts';
import { managedTags } from '../domain/tags.ts';
import type { ContentSourcePolicy, Policy } from '../policy/schema.ts';
import { InputError } from '../runtime/errors.ts';
import { forEachTarget, type MetricPoint, type RunResult, type TargetOutcome } from '../runtime/result.ts';

export const FUNCTION_NAME = 'content-backup';

export interface ContentBackupOptions {
  /** Stop starting new chunks after this many ms (the Lambda has 15 minutes; the loop continues). */
  budgetMs?: number;
  /** Source keys per chunk (one part file and one checkpoint per chunk). */
  chunkKeys?: number;
  /** Copies in flight. */
  concurrency?: number;
  /** Only these sources (names). */
  sources?: string[];
  copy?: Pick<CopyOptions, 'multipartThreshold' | 'partLimits'>;
  /** Wall clock for the budget (ms). Never used for naming: that comes from the event. */
  clock?: () => number;
}

/** Saved in the vault after every chunk; read back by the next invocation. */
export interface Checkpoint {
  generation: string;
  /** Wall-clock time the generation's first invocation started (ISO). */
  startedAt: string;
  /** Last source key (relative) whose chunk is recorded in a part. */
  after?: string;
  parts: number;
  previous?: string;
  listed: number;
  copied: number;
  copiedBytes: number;
  reused: number;
  unchanged: number;
  deleted: number;
  /** Source objects in an archive storage class, not copied (count, and the first keys). */
  archivedCount?: number;
  archived?: string[];
}

export interface GenerationSummary extends Omit<Checkpoint, 'after' | 'parts'> {
  source: string;
  /** The scheduled time of the run (ISO). */
  time: string;
  sourceUrl: string;
  finishedAt: string;
  objects: number;
  bytes: number;
  /** Keys deleted in the source since the previous generation (first 10,000). */
  deletedKeys: string[];
  manifest: string;
}

export interface ContentRunResult extends RunResult {
  generation: string;
  /** True when every selected source has a complete generation for this date. */
  complete: boolean;
}

interface Part {
  entries: ManifestEntry[];
  deleted: string[];
}

const DEFAULTS = { budgetMs: 600_000, chunkKeys: 5_000, concurrency: 32 };
const DELETED_KEYS_RECORDED = 10_000;

function checkpointKey(policy: Policy, name: string, generation: string): string {
  return `${vaultLayout.workPrefix(policy, name)}${generation}/checkpoint.json`;
}

/** Complete generations of a source, newest first (from the manifests in the vault). */
export async function listGenerations(port: ContentPort, policy: Policy, name: string): Promise<string[]> {
  const keys = await port.listKeys(policy.vault.bucket, vaultLayout.generationsPrefix(policy, name));
  return keys
    .map(generationOfManifestKey)
    .filter((g): g is string => g !== undefined)
    .sort()
    .reverse();
}

export async function readManifest(
  port: ContentPort,
  policy: Policy,
  name: string,
  generation: string,
): Promise<ManifestEntry[] | undefined> {
  const body = await port.get({
    bucket: policy.vault.bucket,
    key: vaultLayout.manifestKey(policy, name, generation),
  });
  return body ? decodeManifest(body) : undefined;
}

export function findSource(policy: Policy, name: string): ContentSourcePolicy {
  const c = policy.content.find((s) => s.name === name);
  if (!c) {
    const known = policy.content.map((s) => s.name).join(', ') || '(none)';
    throw new InputError([
      `--source: no content source named "${name}" in the policy; expected one of ${known}`,
    ]);
  }
  return c;
}

/** Another invocation wrote the checkpoint or manifest this one was about to write (a duplicate delivery). */
class ConcurrentRunError extends Error {
  override name = 'ConcurrentRunError';
}

/** Runs `write`; a failed S3 condition (If-Match, If-None-Match) means another run got there first. */
async function conditional<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isAwsError(err, 'preconditionFailed')) throw new ConcurrentRunError(what);
    throw err;
  }
}

class SourceRun {
  private previous = new Map<string, ManifestEntry>();
  private previousKeys: string[] = [];
  /** The checkpoint's ETag as this run last read or wrote it: it updates the checkpoint only if it still is. */
  private checkpointEtag = '';
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read through destructuring in chunk()
  private readonly src: ContentSource;

  constructor(
    private readonly policy: Policy,
    private readonly cfg: ContentSourcePolicy,
    private readonly port: ContentPort,
    private readonly opts: Required<
      Pick<ContentBackupOptions, 'budgetMs' | 'chunkKeys' | 'concurrency' | 'clock'>
    > &
      Pick<ContentBackupOptions, 'copy'>,
    private readonly started: number,
  ) {
    this.src = contentSource(cfg);
  }

  private get vault(): string {
    return this.policy.vault.bucket;
  }

  /** Runs or continues the generation; returns true when its manifest exists. */
  async run(time: Date, outcome: TargetOutcome): Promise<boolean> {
    const { policy, port, vault, cfg } = this;
    const generation = generationName(time, policy.timezone);
    const manifestKey = vaultLayout.manifestKey(policy, cfg.name, generation);
    outcome.generation = generation;
    if (await port.head({ bucket: vault, key: manifestKey })) {
      outcome.status = 'skipped';
      outcome.actions.push(`generation ${generation} is already complete`);
      outcome.complete = true;
      // A run that stopped after the manifest but before pruning prunes now (idempotent).
      const pruned = await this.prune(time);
      if (pruned.length) outcome.pruned = pruned;
      return true;
    }
    const cpKey = checkpointKey(policy, cfg.name, generation);
    const saved = await port.getWithEtag({ bucket: vault, key: cpKey });
    let cp = saved ? (JSON.parse(saved.body.toString('utf8')) as Checkpoint) : undefined;
    this.checkpointEtag = saved?.etag ?? '';
    const resumed = cp !== undefined;
    if (!cp) {
      const previous = (await listGenerations(port, policy, cfg.name)).find((g) => g < generation);
      cp = {
        generation,
        startedAt: new Date(this.opts.clock()).toISOString(),
        parts: 0,
        previous,
        listed: 0,
        copied: 0,
        copiedBytes: 0,
        reused: 0,
        unchanged: 0,
        deleted: 0,
      };
      // Saved before the first copy, so that a crash in the first chunk is
      // recognised on retry (copies made after startedAt are reused). Only if
      // no other invocation started this generation meanwhile.
      const first = JSON.stringify(cp);
      const written = await conditional(`generation ${generation} was started by another run`, () =>
        port.put(vault, cpKey, first, { contentType: 'application/json', ifNoneMatch: '*' }),
      );
      this.checkpointEtag = written.etag ?? '';
    } else {
      outcome.actions.push(
        `continued generation ${generation} after ${cp.after ?? '(start)'} (${cp.parts} parts done)`,
      );
    }
    if (cp.previous) {
      const prev = await readManifest(port, policy, cfg.name, cp.previous);
      if (!prev)
        throw new Error(`the manifest of the previous generation ${cp.previous} disappeared during the run`);
      this.previous = new Map(prev.map((e) => [e.key, e]));
      this.previousKeys = prev.map((e) => e.key).sort(compareKeys);
    }

    let firstChunk = true;
    let finished = false;
    while (!finished) {
      if (!firstChunk && this.opts.clock() - this.started >= this.opts.budgetMs) break;
      const part = await this.chunk(cp, firstChunk && resumed);
      firstChunk = false;
      finished = part.finished;
    }
    Object.assign(outcome, {
      listed: cp.listed,
      copied: cp.copied,
      copiedBytes: cp.copiedBytes,
      deleted: cp.deleted,
      unchanged: cp.unchanged,
      reused: cp.reused,
      archivedSkipped: cp.archivedCount ?? 0,
    });
    if (cp.archivedCount) {
      outcome.warnings.push(
        `${cp.archivedCount} source object(s) in an archive storage class were not copied (first: ${(cp.archived ?? []).slice(0, 5).join(', ')}); the previous generation's copy stays where there is one: restore them in the source, or move them out of ${cfg.source}`,
      );
    }
    if (!finished) {
      outcome.complete = false;
      outcome.actions.push(`time budget reached after ${cp.parts} parts; continues after ${cp.after}`);
      return false;
    }
    await this.finish(time, cp, outcome);
    return true;
  }

  /** Lists up to chunkKeys objects after the checkpoint, copies what changed, records a part. */
  private async chunk(cp: Checkpoint, atRisk: boolean): Promise<{ finished: boolean }> {
    const { port, src, vault } = this;
    const listed: ListedObject[] = [];
    let truncated = true;
    let startAfter = cp.after === undefined ? undefined : src.prefix + cp.after;
    while (truncated && listed.length < this.opts.chunkKeys) {
      const page = await port.listPage(
        src.bucket,
        src.prefix,
        startAfter,
        Math.min(1000, this.opts.chunkKeys - listed.length),
      );
      truncated = page.truncated;
      for (const o of page.objects) {
        const rel = o.key.slice(src.prefix.length);
        // "Folder" placeholder objects carry no content.
        if (rel === '' || (rel.endsWith('/') && o.size === 0)) continue;
        listed.push({ ...o, key: rel });
      }
      startAfter = page.objects.at(-1)?.key ?? startAfter;
      if (page.objects.length === 0) truncated = false;
    }
    const lastListed = startAfter === undefined ? undefined : startAfter.slice(src.prefix.length);
    const upTo = truncated ? lastListed : undefined;
    const diff = diffChunk(listed, this.previous, this.previousKeys, cp.after, upTo);

    const copied: ManifestEntry[] = [];
    let copiedBytes = 0;
    let reused = 0;
    const startedAt = new Date(cp.startedAt).getTime();
    // An object in an archive class cannot be copied until someone restores it in the source:
    // it is skipped and reported (the previous generation's copy, when there is one, stays in
    // this generation), never a failure of the whole source.
    const archived = new Set<string>();
    const copyable = diff.toCopy.filter((o) => !(o.storageClass && ARCHIVE_CLASSES.has(o.storageClass)));
    for (const o of diff.toCopy) if (!copyable.includes(o)) archived.add(o.key);
    await inParallel(copyable, this.opts.concurrency, async (o) => {
      const dst = { bucket: vault, key: vaultLayout.objectKey(this.cfg.name, o.key) };
      if (atRisk) {
        // This chunk may have been half done by an attempt that crashed: a
        // vault version written since the generation started is that copy.
        const h = await port.head(dst);
        if (h?.sha256 && h.lastModified.getTime() >= startedAt - 1000 && h.size === o.size) {
          copied.push({
            key: o.key,
            size: o.size,
            etag: o.etag,
            sha256: h.sha256,
            versionId: h.versionId,
            mtime: o.mtime,
            // A multipart copy is verified part by part: the part size goes into the manifest too.
            ...(h.partSize ? { partSize: h.partSize } : {}),
          });
          reused++;
          return;
        }
      }
      let r: Awaited<ReturnType<ContentPort['copy']>>;
      try {
        r = await port.copy({ bucket: src.bucket, key: src.prefix + o.key }, dst, {
          ...this.opts.copy,
          ifMatch: o.etag,
          size: o.size,
        });
      } catch (err) {
        // Archived without the listing saying so (an Intelligent-Tiering archive tier).
        if (!isAwsError(err, 'invalidState')) throw err;
        archived.add(o.key);
        return;
      }
      if (r.versionId === 'null')
        throw new Error(`the vault s3://${vault}/ is not versioned; a generation needs version ids`);
      copied.push({
        key: o.key,
        size: r.size,
        etag: r.sourceEtag || o.etag,
        sha256: r.sha256,
        versionId: r.versionId,
        mtime: r.sourceMtime ?? o.mtime,
        ...(r.partSize ? { partSize: r.partSize } : {}),
      });
      copiedBytes += r.size;
    });
    // Deleted in the source: recorded, and the vault's copy becomes a
    // noncurrent version (still in every older generation until it expires).
    await inParallel(diff.deleted, this.opts.concurrency, async (k) => {
      const key = vaultLayout.objectKey(this.cfg.name, k);
      // After a crash the marker may be there already: one is enough.
      if (atRisk && !(await port.head({ bucket: vault, key }))) return;
      await port.deleteMarker(vault, key);
    });

    const kept = [...archived].map((k) => this.previous.get(k)).filter((e): e is ManifestEntry => Boolean(e));
    cp.archived = [...(cp.archived ?? []), ...[...archived].sort(compareKeys)].slice(
      0,
      DELETED_KEYS_RECORDED,
    );
    cp.archivedCount = (cp.archivedCount ?? 0) + archived.size;
    const entries = [...diff.unchanged, ...copied, ...kept].sort((a, b) => compareKeys(a.key, b.key));
    const seq = cp.parts + 1;
    const part: Part = { entries, deleted: diff.deleted };
    await port.put(
      vault,
      vaultLayout.partKey(this.policy, this.cfg.name, cp.generation, seq),
      gzipSync(JSON.stringify(part)),
      {
        contentType: 'application/gzip',
      },
    );
    cp.parts = seq;
    cp.after = upTo ?? lastListed ?? cp.after;
    cp.listed += listed.length;
    cp.copied += copied.length - reused;
    cp.reused += reused;
    cp.copiedBytes += copiedBytes;
    cp.unchanged += diff.unchanged.length;
    cp.deleted += diff.deleted.length;
    // Only if the checkpoint is still the one this run read: a second invocation of the
    // same generation (a duplicate delivery) that moved it on keeps going, this one stops.
    const written = await conditional(`generation ${cp.generation} was continued by another run`, () =>
      port.put(vault, checkpointKey(this.policy, this.cfg.name, cp.generation), JSON.stringify(cp), {
        contentType: 'application/json',
        ifMatch: this.checkpointEtag,
      }),
    );
    this.checkpointEtag = written.etag ?? '';
    return { finished: !truncated };
  }

  private async readPart(generation: string, seq: number): Promise<Part> {
    const key = vaultLayout.partKey(this.policy, this.cfg.name, generation, seq);
    const body = await this.port.get({ bucket: this.vault, key });
    if (!body)
      throw new Error(
        `checkpoint part ${seq} of generation ${generation} is missing (s3://${this.vault}/${key})`,
      );
    return JSON.parse(gunzipSync(body).toString('utf8')) as Part;
  }

  private async finish(time: Date, cp: Checkpoint, outcome: TargetOutcome): Promise<void> {
    const { policy, port, vault, cfg } = this;
    const entries: ManifestEntry[] = [];
    const deletedKeys: string[] = [];
    for (let seq = 1; seq <= cp.parts; seq++) {
      const part = await this.readPart(cp.generation, seq);
      entries.push(...part.entries);
      for (const k of part.deleted) if (deletedKeys.length < DELETED_KEYS_RECORDED) deletedKeys.push(k);
    }
    // Parts are disjoint key ranges in order; a duplicate would mean a bug, never a silent double.
    for (let i = 1; i < entries.length; i++) {
      if (compareKeys((entries[i - 1] as ManifestEntry).key, (entries[i] as ManifestEntry).key) >= 0) {
        throw new Error(
          `generation ${cp.generation}: parts overlap at ${(entries[i] as ManifestEntry).key}; not writing a manifest`,
        );
      }
    }
    const manifest = vaultLayout.manifestKey(policy, cfg.name, cp.generation);
    const { after: _a, parts: _p, ...counts } = cp;
    const summary: GenerationSummary = {
      ...counts,
      source: cfg.name,
      time: time.toISOString(),
      sourceUrl: cfg.source,
      finishedAt: new Date(this.opts.clock()).toISOString(),
      objects: entries.length,
      bytes: entries.reduce((n, e) => n + e.size, 0),
      deletedKeys,
      manifest,
    };
    const tags = managedTags({ backupClass: 'content', source: cfg.name, time, createdBy: FUNCTION_NAME });
    await port.put(
      vault,
      vaultLayout.summaryKey(policy, cfg.name, cp.generation),
      JSON.stringify(summary, null, 1),
      {
        contentType: 'application/json',
        tags,
      },
    );
    // Last: the manifest is the generation, written once (another run's manifest is never replaced).
    await conditional(`generation ${cp.generation} was completed by another run`, () =>
      port.put(vault, manifest, encodeManifest(entries), {
        contentType: 'application/gzip',
        tags,
        ifNoneMatch: '*',
      }),
    );
    outcome.actions.push(
      `generation ${cp.generation}: ${entries.length} objects, ${cp.copied} copied (${cp.copiedBytes} bytes), ${cp.unchanged} unchanged, ${cp.deleted} deleted in the source`,
    );
    Object.assign(outcome, {
      complete: true,
      objects: entries.length,
      manifest: `s3://${vault}/${manifest}`,
    });
    outcome.pruned = await this.prune(time);
  }

  /** Keeps the newest `generations` manifests; older ones get a delete marker (Object Lock keeps the bytes for its term). */
  private async prune(now: Date): Promise<string[]> {
    const gens = await listGenerations(this.port, this.policy, this.cfg.name);
    const plan = planPruning(
      gens.map((g) => ({
        id: g,
        time: new Date(`${g}T00:00:00Z`),
        managed: GENERATION_NAME.test(g),
        complete: true,
      })),
      { minGenerations: this.cfg.generations, maxGenerations: this.cfg.generations },
      // Generations are dates (UTC midnight above), so "now" is this run's own
      // generation date on the same scale: compared with the run's instant,
      // its own generation would look newer than the run (planPruning never
      // prunes what is newer than "now", a guard against replays and skew).
      new Date(`${generationName(now, this.policy.timezone)}T00:00:00Z`),
    );
    for (const p of plan.prune) {
      await this.port.deleteMarker(this.vault, vaultLayout.manifestKey(this.policy, this.cfg.name, p.id));
    }
    return plan.prune.map((p) => p.id);
  }
}

export async function contentBackup(
  time: Date,
  policy: Policy,
  port: ContentPort,
  options: ContentBackupOptions = {},
): Promise<ContentRunResult> {
  const opts = {
    budgetMs: options.budgetMs ?? DEFAULTS.budgetMs,
    chunkKeys: options.chunkKeys ?? DEFAULTS.chunkKeys,
    concurrency: options.concurrency ?? DEFAULTS.concurrency,
    clock: options.clock ?? Date.now,
    copy: options.copy,
  };
  const started = opts.clock();
  const unknown = (options.sources ?? []).filter((s) => !policy.content.some((c) => c.name === s));
  if (unknown.length) {
    throw new InputError([
      `detail.sources: unknown content source(s) ${unknown.join(', ')}; expected names from the policy's content[]`,
    ]);
  }
  const sources = policy.content.filter((c) => !options.sources || options.sources.includes(c.name));
  let complete = true;
  const targets = await forEachTarget(
    sources,
    (c) => c.name,
    async (c, outcome) => {
      try {
        const done = await new SourceRun(policy, c, port, opts, started).run(time, outcome);
        if (!done) complete = false;
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
