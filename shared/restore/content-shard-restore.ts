// Restore (content class, at scale): the shard restore: a chunk of a shard's
// manifest entries copied into the target (server-side in one account, read
// and written through in another), each checked against the manifest's
// SHA-256; after a crash, what is already in the target is compared (HEAD),
// never overwritten.
import { createHash } from 'node:crypto';
import type { ContentPort } from '../aws/content.ts';
import { compareKeys, type ManifestEntry, vaultLayout } from '../domain/content.ts';
import type { Policy } from '../policy/schema.ts';
import { InputError } from '../runtime/errors.ts';
import { inParallel } from '../runtime/parallel.ts';
import {
  type ContentJob,
  fullObject,
  type JobShard,
  restoreRoot,
  type ShardedPorts,
  type ShardProgress,
  type ShardRunOptions,
} from './content-shard-job.ts';

/** Copies a chunk into the target; with `checkTarget`, keys already there with the manifest's bytes are kept. */
export function restoreChunk(
  ports: ShardedPorts,
  policy: Policy,
  job: ContentJob,
  p: ShardProgress,
  shard: JobShard,
  opts: ShardRunOptions,
) {
  const to = job.to as { bucket: string; prefix: string };
  const sameAccount = ports.vault.objects === ports.target;
  const copyOne = async (e: ManifestEntry) => {
    const src = {
      bucket: policy.vault.bucket,
      key: vaultLayout.objectKey(job.source, e.key),
      versionId: e.versionId,
    };
    const dst = { bucket: to.bucket, key: to.prefix + e.key };
    let sha: string | undefined;
    if (sameAccount) sha = (await ports.target.copy(src, dst, { ...opts.copy, size: e.size })).sha256;
    else {
      // Into another account: read with kura's role, write with the target's; hashed on the way.
      const obj = await ports.vault.objects.readObject(src);
      const hash = createHash('sha256');
      async function* hashed() {
        for await (const c of obj.body) {
          hash.update(c);
          yield c;
        }
      }
      await ports.target.writeObject(dst, { ...obj, body: hashed() });
      if (!e.partSize) sha = hash.digest('base64');
    }
    if (fullObject(sha) && fullObject(e.sha256) && sha !== e.sha256)
      throw new Error(
        `s3://${dst.bucket}/${dst.key}: restored with SHA-256 ${sha}, the manifest says ${e.sha256} (vault version ${e.versionId} of ${job.source}); the vault copy is not the generation's`,
      );
  };
  const concurrency = opts.concurrency ?? (sameAccount ? 32 : 8);
  return async (chunk: ManifestEntry[], checkTarget: boolean) => {
    const { todo, present } = checkTarget
      ? await notYetRestored(ports.target, job, p.after ?? shard.after, chunk)
      : { todo: chunk, present: 0 };
    await inParallel(todo, concurrency, copyOne);
    const bytes = chunk.reduce((n, e) => n + e.size, 0);
    p.objects += chunk.length;
    p.bytes += bytes;
    p.copied += todo.length;
    p.alreadyRestored += chunk.length - todo.length;
    return present;
  };
}

/**
 * The chunk's entries not yet in the target: the target is listed over the
 * chunk's keys, and each one there is compared by SHA-256 (HEAD). Another
 * object, or a key not in the generation, is refused: a continued restore
 * overwrites nothing and goes only into a prefix that holds its own objects.
 */
async function notYetRestored(
  target: ContentPort,
  job: ContentJob,
  /** The last key known done (or the shard's lower bound): the listing starts after it. */
  done: string | undefined,
  chunk: ManifestEntry[],
): Promise<{ todo: ManifestEntry[]; present: number }> {
  const to = job.to as { bucket: string; prefix: string };
  const root = restoreRoot(job);
  const last = chunk.at(-1)?.key;
  if (!last) return { todo: [], present: 0 };
  const there = new Map<string, number>();
  let after = done !== undefined ? to.prefix + done : undefined;
  for (;;) {
    const page = await target.listPage(root.bucket, root.prefix, after, 1000);
    let beyond = false;
    for (const o of page.objects) {
      const key = o.key.slice(to.prefix.length);
      if (compareKeys(key, last) > 0) {
        beyond = true;
        break;
      }
      there.set(key, o.size);
    }
    after = page.objects.at(-1)?.key;
    if (beyond || !page.truncated || !after) break;
  }
  const byKey = new Set(chunk.map((e) => e.key));
  for (const k of there.keys())
    if (!byKey.has(k))
      throw new InputError([
        `--to s3://${to.bucket}/${to.prefix}${k}: not in ${job.source} generation ${job.generation}; a continued restore goes only into a prefix that holds nothing but this restore's objects`,
      ]);
  const todo: ManifestEntry[] = [];
  await inParallel(chunk, 16, async (e) => {
    if (!there.has(e.key)) return void todo.push(e);
    const head = await target.head({ bucket: to.bucket, key: to.prefix + e.key });
    const refuse = (what: string) =>
      new InputError([
        `--to s3://${to.bucket}/${to.prefix}${e.key}: holds ${what}, the generation ${e.size} bytes with SHA-256 ${e.sha256}; a continued restore never overwrites: remove it or restore elsewhere`,
      ]);
    if (!head) return void todo.push(e);
    if (head.size !== e.size) throw refuse(`${head.size} bytes`);
    // A kura restore writes every object with S3's SHA-256: one without is someone else's.
    if (!head.sha256) throw refuse('an object without a SHA-256 checksum');
    if (fullObject(head.sha256) && fullObject(e.sha256)) {
      if (head.sha256 !== e.sha256) throw refuse(`other bytes (SHA-256 ${head.sha256})`);
      return;
    }
    // Checksums of different part layouts cannot be compared: this restore's own object is written again.
    todo.push(e);
  });
  return { todo: todo.sort((a, b) => compareKeys(a.key, b.key)), present: there.size };
}

/** After a continued restore: the first target object past the generation's last key, if any. */
export async function strangerAfter(
  target: ContentPort,
  job: ContentJob,
  progress: readonly ShardProgress[],
): Promise<string | undefined> {
  const root = restoreRoot(job);
  const last = progress
    .map((p) => p.after)
    .filter((k): k is string => k !== undefined)
    .sort(compareKeys)
    .at(-1);
  const to = job.to as { bucket: string; prefix: string };
  const page = await target.listPage(
    root.bucket,
    root.prefix,
    last === undefined ? undefined : to.prefix + last,
    1,
  );
  return page.objects[0]?.key;
}
