// AWS adapter: the seals of kura's records in the vault (domain/seals.ts).
// Writers seal a record right after writing it; readers check the bytes they
// read before trusting them. A seal is written with If-None-Match (never
// replaced) through the same port as its record, so it carries the port's
// vault lock: seals/<key>/ takes <key>'s class retention (vault-retention.ts),
// counted from a later write, and outlives the record's lock. The store works
// over any of the vault ports (SealIo below): content, logs, kura's objects.
import {
  checkSeal,
  encodeSeal,
  newSeal,
  parseSeal,
  SealError,
  type SealRecord,
  sealKey,
  sealKind,
  sealPrefix,
  sealSeq,
  sha256Of,
} from '../domain/seals.ts';
import type { ContentPort } from './content.ts';
import { isAwsError } from './errors.ts';
import type { LogStorePort } from './log-store.ts';
import { encodeVaultBody, type PutOptions, type VaultObjects } from './vault-objects.ts';

/** What readers and writers of sealed records need. Tests wrap it to tamper or to fail between writes. */
export interface SealPort {
  /**
   * Seals the bytes just written at `key` (in the vault). Idempotent: the same
   * bytes sealed again change nothing. A record written once that is already
   * sealed with other bytes is a SealError (conflict): its seal stays.
   */
  seal(key: string, body: Uint8Array | string, versionId?: string): Promise<SealRecord>;
  /** Holds bytes read from `key` against its seal: a SealError unless they are what kura sealed. */
  check(key: string, body: Uint8Array | string, versionId?: string): Promise<SealRecord>;
  /** The seal a reader holds `key` against (the first of a record written once, the newest of a chain). */
  current(key: string): Promise<SealRecord | undefined>;
}

/** The three calls a seal store makes, in the vault bucket. */
export interface SealIo {
  /** Writes only where no object is (If-None-Match: *): false when one was there first. */
  putIfAbsent(key: string, body: string): Promise<boolean>;
  get(key: string): Promise<string | undefined>;
  list(prefix: string): Promise<string[]>;
}

async function absentOnly(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (isAwsError(err, 'preconditionFailed')) return false;
    throw err;
  }
}

const JSON_TYPE = 'application/json';

export function contentSealIo(port: ContentPort, bucket: string): SealIo {
  return {
    putIfAbsent: (key, body) =>
      absentOnly(() => port.put(bucket, key, body, { contentType: JSON_TYPE, ifNoneMatch: '*' })),
    get: async (key) => (await port.get({ bucket, key }))?.toString('utf8'),
    list: (prefix) => port.listKeys(bucket, prefix),
  };
}

export function logStoreSealIo(
  store: Pick<LogStorePort, 'putText' | 'read' | 'list'>,
  bucket: string,
): SealIo {
  return {
    putIfAbsent: (key, body) =>
      absentOnly(() =>
        store.putText(bucket, key, body, { tags: {}, contentType: JSON_TYPE, ifNoneMatch: '*' }),
      ),
    get: async (key) => {
      try {
        const chunks: Uint8Array[] = [];
        for await (const c of (await store.read(bucket, key)).body) chunks.push(c);
        return Buffer.concat(chunks).toString('utf8');
      } catch (err) {
        if (isAwsError(err, 'notFound')) return undefined;
        throw err;
      }
    },
    list: async (prefix) => (await store.list(bucket, prefix)).map((o) => o.key),
  };
}

export function vaultObjectsSealIo(objects: Pick<VaultObjects, 'put' | 'getText' | 'list'>): SealIo {
  return {
    putIfAbsent: (key, body) =>
      absentOnly(() => objects.put(key, body, { contentType: JSON_TYPE, ifNoneMatch: '*' })),
    get: (key) => objects.getText(key),
    list: (prefix) => objects.list(prefix),
  };
}

export class SealStore implements SealPort {
  constructor(
    private readonly io: SealIo,
    /** s3://bucket, for messages. */
    private readonly where: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private async read(key: string, seq: number): Promise<SealRecord | undefined> {
    const at = sealKey(key, seq);
    const text = await this.io.get(at);
    return text === undefined ? undefined : parseSeal(text, key, `${this.where}/${at}`);
  }

  /** The highest sequence number among the seals of `key` (0 when none). */
  private async lastSeq(key: string): Promise<number> {
    const prefix = sealPrefix(key);
    let last = 0;
    for (const k of await this.io.list(prefix)) {
      const seq = /^\d{6}\.json$/.test(k.slice(prefix.length)) ? sealSeq(k) : undefined;
      if (seq && seq > last) last = seq;
    }
    return last;
  }

  async current(key: string): Promise<SealRecord | undefined> {
    if (sealKind(key) === 'once') return this.read(key, 1);
    const last = await this.lastSeq(key);
    return last ? this.read(key, last) : undefined;
  }

  private put(seal: SealRecord): Promise<boolean> {
    return this.io.putIfAbsent(sealKey(seal.key, seal.seq), encodeSeal(seal));
  }

  async seal(key: string, body: Uint8Array | string, versionId?: string): Promise<SealRecord> {
    const sha = sha256Of(body);
    if (sealKind(key) === 'once') {
      const seal = newSeal(key, body, { versionId, writtenAt: this.clock() });
      if (await this.put(seal)) return seal;
      const first = await this.read(key, 1);
      if (first?.sha256 === sha) return first;
      throw new SealError(
        key,
        'conflict',
        `already sealed with sha256 ${first?.sha256} (version ${first?.versionId}, ${first?.writtenAt}); this write's ${sha}${versionId ? ` (version ${versionId})` : ''} is not the sealed record, and readers refuse it`,
        first?.sha256,
        sha,
      );
    }
    // A chain: a new seal only when the bytes changed; a race for the same number tries the next.
    for (let attempt = 0; attempt < 5; attempt++) {
      const last = await this.lastSeq(key);
      const prev = last ? await this.read(key, last) : undefined;
      if (prev?.sha256 === sha) return prev;
      const seal = newSeal(key, body, {
        versionId,
        writtenAt: this.clock(),
        seq: last + 1,
        previous: prev?.sha256 ?? null,
      });
      if (await this.put(seal)) return seal;
    }
    throw new SealError(key, 'conflict', 'five writers raced for the next seal; not sealed', undefined, sha);
  }

  async check(key: string, body: Uint8Array | string, versionId?: string): Promise<SealRecord> {
    return checkSeal(key, await this.current(key), body, versionId);
  }
}

/** The seals of the vault's records, written and read through the content port. */
export function contentSeals(port: ContentPort, bucket: string): SealPort {
  return new SealStore(contentSealIo(port, bucket), `s3://${bucket}`);
}

/** The seals of the vault's records, written and read through the log store. */
export function logSeals(store: Pick<LogStorePort, 'putText' | 'read' | 'list'>, bucket: string): SealPort {
  return new SealStore(logStoreSealIo(store, bucket), `s3://${bucket}`);
}

/** A log store with the seals of its records in `bucket`, through that same store (the log bundle's ports). */
export function sealedLogStore<S extends Pick<LogStorePort, 'putText' | 'read' | 'list'>>(
  store: S,
  bucket: string,
): { store: S; seals: SealPort } {
  return { store, seals: logSeals(store, bucket) };
}

/** The seals of kura's own objects (plans, records, reports). */
export function vaultSeals(objects: Pick<VaultObjects, 'put' | 'getText' | 'list' | 'location'>): SealPort {
  return new SealStore(vaultObjectsSealIo(objects), objects.location('').replace(/\/$/, ''));
}

/** Writes one of kura's own records (vault-objects.ts) and seals it. Returns what `put` returned. */
export async function putSealed(
  objects: Pick<VaultObjects, 'put' | 'getText' | 'list' | 'location'>,
  key: string,
  body: unknown,
  opts?: PutOptions,
): Promise<{ etag?: string; versionId?: string }> {
  const written = await objects.put(key, body, opts);
  await vaultSeals(objects).seal(key, encodeVaultBody(body), written.versionId);
  return written;
}

/**
 * kura's own records (plans, reports) as a use case writes and reads them:
 * written then sealed, read back only once they match their seal. Built by
 * the edge over the vault's objects (sealedRecords).
 */
export interface SealedRecords {
  /** Writes the record and seals it. Returns what the write returned. */
  put(key: string, body: unknown, opts?: PutOptions): Promise<{ etag?: string; versionId?: string }>;
  /**
   * The record as text, checked against its seal (undefined when there is
   * none). A rewritten record (a chain) caught between its write and its seal
   * is read again (CHAIN_SEAL_WAIT_MS) before it is called tampered.
   */
  getText(key: string): Promise<string | undefined>;
}

/**
 * How long a reader of a rewritten record (a chain) waits for the writer's
 * seal before it calls the bytes tampered: the seal is the writer's second
 * PUT, so a reader landing between the two sees new bytes under the previous
 * seal (an approval read while `kura restore approve` records it).
 */
export const CHAIN_SEAL_WAIT_MS = [250, 500, 1000] as const;

/** One of kura's own records as text, checked against its seal (undefined when there is none). */
export async function getSealedText(
  objects: Pick<VaultObjects, 'put' | 'getText' | 'list' | 'location'>,
  key: string,
  waits: readonly number[] = CHAIN_SEAL_WAIT_MS,
): Promise<string | undefined> {
  const seals = vaultSeals(objects);
  for (let attempt = 0; ; attempt++) {
    const text = await objects.getText(key);
    if (text === undefined) return undefined;
    try {
      await seals.check(key, text);
      return text;
    } catch (err) {
      const midWrite =
        err instanceof SealError &&
        sealKind(key) === 'chain' &&
        (err.problem === 'mismatch' || err.problem === 'unsealed');
      const wait = waits[attempt];
      if (!midWrite || wait === undefined) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** The sealed-records port over the vault's objects (`waits`: the chain re-read, CHAIN_SEAL_WAIT_MS). */
export function sealedRecords(
  objects: Pick<VaultObjects, 'put' | 'getText' | 'list' | 'location'>,
  waits: readonly number[] = CHAIN_SEAL_WAIT_MS,
): SealedRecords {
  return {
    put: (key, body, opts) => putSealed(objects, key, body, opts),
    getText: (key) => getSealedText(objects, key, waits),
  };
}
