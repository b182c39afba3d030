// AWS adapter: kura's own small objects in the vault bucket (validation plans,
// item records and reports, restore progress, image configuration records).
// One store for all of them: JSON or text bodies, a SHA-256 checksum on every
// write (the vault has Object Lock, and S3 refuses a write to a locked bucket
// without one), each key's class retention stated (vault-lock.ts), and S3's
// conditional writes for callers that must not overwrite another run's work.
import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import type { Policy } from '../policy/schema.ts';
import type { Clients } from './clients.ts';
import { isAwsError } from './errors.ts';
import { lockFor, type VaultLock, vaultLock } from './vault-lock.ts';

export interface PutOptions {
  /** Default application/json. */
  contentType?: string;
  /** '*': write only when the key has no object yet (else PreconditionFailed, nothing written). */
  ifNoneMatch?: '*';
  /** Write only when the object still has this ETag (else PreconditionFailed, nothing written). */
  ifMatch?: string;
}

export interface VaultObjects {
  /** s3://bucket/key, for messages and pointers. */
  location(key: string): string;
  /** The body as text, or undefined when there is no object. */
  getText(key: string): Promise<string | undefined>;
  /** The parsed JSON, or undefined when there is no object (or it is empty). */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** A string is written as it is, anything else as indented JSON. Returns the new ETag and version. */
  put(key: string, body: unknown, opts?: PutOptions): Promise<{ etag?: string; versionId?: string }>;
  /** Every key under the prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** The "directories" right under the prefix (common prefixes at the next '/'), without the prefix. */
  listDirs(prefix: string): Promise<string[]>;
}

/** The bytes `put` stores for a body: a string as it is, anything else as indented JSON. */
export function encodeVaultBody(body: unknown): string {
  return typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
}

export class S3VaultObjects implements VaultObjects {
  constructor(
    protected readonly clients: Clients,
    readonly bucket: string,
    /** States each key's retention on every write, rather than relying on the bucket default. */
    private readonly lock?: VaultLock,
  ) {}

  private get s3(): S3Client {
    return this.clients.get(S3Client);
  }

  location(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await r.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      if (isAwsError(err, 'notFound')) return undefined;
      throw err;
    }
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const text = await this.getText(key);
    return text ? (JSON.parse(text) as T) : undefined;
  }

  async put(
    key: string,
    body: unknown,
    opts: PutOptions = {},
  ): Promise<{ etag?: string; versionId?: string }> {
    const out = await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: encodeVaultBody(body),
        ContentType: opts.contentType ?? 'application/json',
        ...lockFor(this.lock, this.bucket, key),
        IfNoneMatch: opts.ifNoneMatch,
        IfMatch: opts.ifMatch,
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    return { etag: out.ETag, versionId: out.VersionId };
  }

  private async listAll(prefix: string, delimiter?: string): Promise<{ keys: string[]; dirs: string[] }> {
    const keys: string[] = [];
    const dirs: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: this.s3 },
      { Bucket: this.bucket, Prefix: prefix, Delimiter: delimiter },
    )) {
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) dirs.push(p.Prefix.slice(prefix.length, -1));
    }
    return { keys, dirs };
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.listAll(prefix)).keys.sort();
  }

  async listDirs(prefix: string): Promise<string[]> {
    return (await this.listAll(prefix, '/')).dirs;
  }
}

/** The policy's vault, each write stating its key's Object Lock retention. */
export class VaultStore extends S3VaultObjects {
  constructor(clients: Clients, policy: Policy) {
    super(clients, policy.vault.bucket, vaultLock(policy));
  }
}
