// Content backup, a shard's manifest: its part files in order and the last
// chunk streamed into one gzip JSON-lines object (one gzip member per part),
// with its SHA-256 for the generation index.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { compareKeys, type ManifestEntry, vaultLayout } from '../../domain/content.ts';
import { manifestEntries } from '../../domain/content-shards.ts';
import type { SourceJob } from './job.ts';
import type { ShardCheckpoint } from './types.ts';

/**
 * The shard manifest: its parts in order, then the last chunk (still in
 * memory), as one gzip JSON-lines object. Only the compressed bytes of one
 * shard are held, however large the source.
 */
export async function writeShardManifest(
  job: SourceJob,
  cp: ShardCheckpoint,
  lastChunk: ManifestEntry[],
): Promise<NonNullable<ShardCheckpoint['done']>> {
  const { policy, port, cfg, generation } = job;
  const lines: string[] = [];
  const gz: Buffer[] = [];
  let objects = 0;
  let bytes = 0;
  let previousKey: string | undefined;
  const add = (e: ManifestEntry) => {
    // Parts are disjoint key ranges in order; a duplicate would mean a bug, never a silent double.
    if (previousKey !== undefined && compareKeys(previousKey, e.key) >= 0)
      throw new Error(`generation ${generation}: parts overlap at ${e.key}; not writing a manifest`);
    previousKey = e.key;
    objects++;
    bytes += e.size;
    lines.push(JSON.stringify(e));
  };
  // Each part is its own gzip member: concatenated members are one valid gzip stream.
  const flush = () => {
    if (lines.length) gz.push(gzipSync(`${lines.join('\n')}\n`));
    lines.length = 0;
  };
  for (let seq = 1; seq <= cp.parts; seq++) {
    const key = vaultLayout.partKey(policy, cfg.name, generation, cp.shard, seq);
    for await (const e of manifestEntries(port.read({ bucket: job.vault, key }))) add(e);
    flush();
  }
  for (const e of lastChunk) add(e);
  flush();
  const body = Buffer.concat(gz);
  const key = vaultLayout.shardKey(policy, cfg.name, generation, cp.shard);
  await port.put(job.vault, key, body, { contentType: 'application/gzip' });
  return { key, objects, bytes, sha256: createHash('sha256').update(body).digest('base64') };
}
