// Adapter (content class): reading a source's generations back from the vault
// through the ContentPort: which exist, their index, and their entries
// streamed shard by shard, each shard manifest checked against the SHA-256
// its index records. Backup (the previous generation), restore and verify
// read generations only through here, never a manifest key directly.
import { createHash } from 'node:crypto';
import { generationOfManifestKey, type ManifestEntry, vaultLayout } from '../domain/content.ts';
import { type GenerationIndex, manifestEntries } from '../domain/content-shards.ts';
import type { Policy } from '../policy/schema.ts';
import type { ContentPort } from './content.ts';

/** Complete generations of a source, newest first (from the indexes and single manifests in the vault). */
export async function listGenerations(port: ContentPort, policy: Policy, name: string): Promise<string[]> {
  const keys = await port.listKeys(policy.vault.bucket, vaultLayout.generationsPrefix(policy, name));
  const gens = new Set(keys.map(generationOfManifestKey).filter((g): g is string => g !== undefined));
  return [...gens].sort().reverse();
}

export async function readIndex(
  port: ContentPort,
  policy: Policy,
  name: string,
  generation: string,
): Promise<GenerationIndex | undefined> {
  const body = await port.get({
    bucket: policy.vault.bucket,
    key: vaultLayout.indexKey(policy, name, generation),
  });
  return body ? (JSON.parse(body.toString('utf8')) as GenerationIndex) : undefined;
}

/** The manifests that hold a generation's entries, in key order (undefined when it does not exist). */
export async function generationManifests(
  port: ContentPort,
  policy: Policy,
  name: string,
  generation: string,
): Promise<{ key: string; sha256?: string; objects?: number }[] | undefined> {
  const index = await readIndex(port, policy, name, generation);
  if (index) return index.shards.map((s) => ({ key: s.key, sha256: s.sha256, objects: s.objects }));
  const single = vaultLayout.manifestKey(policy, name, generation);
  return (await port.head({ bucket: policy.vault.bucket, key: single })) ? [{ key: single }] : undefined;
}

/**
 * A generation's entries in key order, streamed shard by shard (never the
 * whole generation in memory). A shard manifest whose bytes do not match the
 * SHA-256 its index records is an error, not a silent partial generation.
 */
export async function* streamManifests(
  port: ContentPort,
  bucket: string,
  manifests: readonly { key: string; sha256?: string }[],
): AsyncGenerator<ManifestEntry> {
  for (const m of manifests) {
    const hash = createHash('sha256');
    async function* hashed(): AsyncGenerator<Uint8Array> {
      for await (const c of port.read({ bucket, key: m.key })) {
        hash.update(c);
        yield c;
      }
    }
    yield* manifestEntries(hashed());
    if (m.sha256 && hash.digest('base64') !== m.sha256)
      throw new Error(`s3://${bucket}/${m.key}: its SHA-256 does not match the generation's index`);
  }
}

/** All entries of a generation (for callers that need them at once), or undefined when it does not exist. */
export async function readManifest(
  port: ContentPort,
  policy: Policy,
  name: string,
  generation: string,
): Promise<ManifestEntry[] | undefined> {
  const manifests = await generationManifests(port, policy, name, generation);
  if (!manifests) return undefined;
  const out: ManifestEntry[] = [];
  for await (const e of streamManifests(port, policy.vault.bucket, manifests)) out.push(e);
  return out;
}
