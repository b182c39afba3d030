// Adapter (content class): reading a source's generations back from the vault
// through the ContentPort: which exist, their index, and their entries
// streamed shard by shard, each shard manifest checked against the SHA-256
// its index records. Backup (the previous generation), restore and verify
// read generations only through here, never a manifest key directly. An index
// is trusted only once it matches its seal (seals.ts); its shard manifests are
// chained to it by the SHA-256 it records for each, so the one seal covers
// the whole generation.
import { createHash } from 'node:crypto';
import { generationOfManifestKey, type ManifestEntry, vaultLayout } from '../domain/content.ts';
import { type GenerationIndex, manifestEntries } from '../domain/content-shards.ts';
import { SealError } from '../domain/seals.ts';
import type { ContentSourcePolicy, Policy } from '../policy/schema.ts';
import type { ContentPort } from './content.ts';
import { contentSeals } from './seals.ts';

/**
 * The content backup's generation port: which generations of a source exist,
 * a generation's index (checked against its seal), and the index's seal. Bound
 * to one policy's vault; built by the edge (contentBackupPorts) over the same
 * content port the backup copies through.
 */
export interface GenerationStore {
  list(name: string): Promise<string[]>;
  readIndex(
    name: string,
    generation: string,
    opts?: { unchecked?: boolean },
  ): Promise<GenerationIndex | undefined>;
  sealIndex(name: string, generation: string, written?: { body: string; versionId?: string }): Promise<void>;
}

/** What the content backup use case works through: the vault and sources, and their generations. */
export interface ContentBackupPorts {
  /** The vault, as kura's own role: manifests, indexes, seals, delete markers, lock lengthening. */
  content: ContentPort;
  generations: GenerationStore;
  /**
   * What lists a content source and copies it into the vault: with sources,
   * the owning account's kura-source role (it reads the source and may only
   * add objects under the source's own vault prefix); absent, `content`.
   */
  sourceFor?: (source: ContentSourcePolicy) => ContentPort;
}

/**
 * The content backup's ports over one content port (the edge's, or a test's
 * wrapped one), and the port each source is read and copied through.
 */
export function contentBackupPorts(
  content: ContentPort,
  policy: Policy,
  sourceFor?: (source: ContentSourcePolicy) => ContentPort,
): ContentBackupPorts {
  return {
    content,
    ...(sourceFor ? { sourceFor } : {}),
    generations: {
      list: (name) => listGenerations(content, policy, name),
      readIndex: (name, generation, opts) => readIndex(content, policy, name, generation, opts),
      sealIndex: (name, generation, written) => sealIndex(content, policy, name, generation, written),
    },
  };
}

/** Complete generations of a source, newest first (from the indexes and single manifests in the vault). */
export async function listGenerations(port: ContentPort, policy: Policy, name: string): Promise<string[]> {
  const keys = await port.listKeys(policy.vault.bucket, vaultLayout.generationsPrefix(policy, name));
  const gens = new Set(keys.map(generationOfManifestKey).filter((g): g is string => g !== undefined));
  return [...gens].sort().reverse();
}

/**
 * A generation's index, checked against its seal (a SealError when it changed
 * after it was sealed, or was never sealed). `unchecked` only for pruning,
 * which reads an index to mark the generation's own keys removed and trusts
 * nothing in it.
 */
export async function readIndex(
  port: ContentPort,
  policy: Policy,
  name: string,
  generation: string,
  opts: { unchecked?: boolean } = {},
): Promise<GenerationIndex | undefined> {
  const key = vaultLayout.indexKey(policy, name, generation);
  const body = await port.get({ bucket: policy.vault.bucket, key });
  if (!body) return undefined;
  if (!opts.unchecked) await contentSeals(port, policy.vault.bucket).check(key, body);
  return JSON.parse(body.toString('utf8')) as GenerationIndex;
}

/**
 * Seals a complete generation's index (after it is written). A run that
 * stopped between the index and its seal seals it on its next pass: the index
 * holds nothing a later run could change (its bytes follow from the shards).
 */
export async function sealIndex(
  port: ContentPort,
  policy: Policy,
  name: string,
  generation: string,
  written?: { body: string; versionId?: string },
): Promise<void> {
  const key = vaultLayout.indexKey(policy, name, generation);
  const seals = contentSeals(port, policy.vault.bucket);
  if (written) {
    await seals.seal(key, written.body, written.versionId);
    return;
  }
  if (await seals.current(key)) return;
  const body = await port.get({ bucket: policy.vault.bucket, key });
  if (body) await seals.seal(key, body);
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
  // A generation written as one manifest (before sharding) is trusted only with a seal of its own.
  const single = vaultLayout.manifestKey(policy, name, generation);
  if (!(await port.head({ bucket: policy.vault.bucket, key: single }))) return undefined;
  const seal = await contentSeals(port, policy.vault.bucket).current(single);
  if (!seal)
    throw new SealError(
      single,
      'unsealed',
      'a generation written as one manifest, with no seal under seals/: not trusted',
    );
  return [{ key: single, sha256: Buffer.from(seal.sha256, 'hex').toString('base64') }];
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
    const found = hash.digest('base64');
    if (m.sha256 && found !== m.sha256)
      throw new SealError(
        m.key,
        'mismatch',
        `expected sha256 ${hex(m.sha256)} (recorded by its sealed generation index or seal), found ${hex(found)}: the manifest changed after it was written`,
        hex(m.sha256),
        hex(found),
      );
  }
}

const hex = (base64: string) => Buffer.from(base64, 'base64').toString('hex');

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

/** A source's generations read back from the vault over one content port (its seals checked). */
export interface GenerationReader {
  /** Complete generations of a source, newest first. */
  list(name: string): Promise<string[]>;
  index(name: string, generation: string): Promise<GenerationIndex | undefined>;
  /** The manifests that hold a generation's entries, in key order (undefined when it does not exist). */
  manifests(name: string, generation: string): ReturnType<typeof generationManifests>;
  /** The entries of those manifests, streamed, each manifest checked against its recorded SHA-256. */
  stream(manifests: readonly { key: string; sha256?: string }[]): AsyncGenerator<ManifestEntry>;
  /** All entries of a generation at once, or undefined when it does not exist. */
  manifest(name: string, generation: string): Promise<ManifestEntry[] | undefined>;
}

/**
 * The vault's content as the restore flows read it: its objects, and its
 * generations read over those same objects (a test that wraps the port to
 * inject a fault wraps the generation reads with it).
 */
export interface VaultContent {
  objects: ContentPort;
  generations: GenerationReader;
}

export function vaultContent(port: ContentPort, policy: Policy): VaultContent {
  return {
    objects: port,
    generations: {
      list: (name) => listGenerations(port, policy, name),
      index: (name, generation) => readIndex(port, policy, name, generation),
      manifests: (name, generation) => generationManifests(port, policy, name, generation),
      stream: (manifests) => streamManifests(port, policy.vault.bucket, manifests),
      manifest: (name, generation) => readManifest(port, policy, name, generation),
    },
  };
}
