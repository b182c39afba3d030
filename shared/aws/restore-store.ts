// AWS adapter: the progress of orchestrated restores, kept in the vault under
// restores/<request-id>/ so that a re-run of the same request resumes, the CLI
// can show status from anywhere, and the report stays next to the evidence.
// Every item has its own object: parallel branches never write the same key.
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Clients } from './clients.ts';

export const RESTORES_PREFIX = 'restores/';

export interface RestoreStorePort {
  get<T>(requestId: string, name: string): Promise<T | undefined>;
  put(requestId: string, name: string, body: unknown, contentType?: string): Promise<string>;
  /** Request ids with a state.json, newest listing order as S3 gives it. */
  list(): Promise<string[]>;
  /** Names under restores/<id>/items/. */
  items(requestId: string): Promise<string[]>;
  location(requestId: string, name: string): string;
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

export class S3RestoreStore implements RestoreStorePort {
  constructor(
    private readonly clients: Clients,
    private readonly bucket: string,
  ) {}

  private key(requestId: string, name: string): string {
    return `${RESTORES_PREFIX}${requestId}/${name}`;
  }

  location(requestId: string, name: string): string {
    return `s3://${this.bucket}/${this.key(requestId, name)}`;
  }

  async get<T>(requestId: string, name: string): Promise<T | undefined> {
    try {
      const r = await this.clients
        .get(S3Client)
        .send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(requestId, name) }));
      const text = (await r.Body?.transformToString()) ?? '';
      return (name.endsWith('.json') ? JSON.parse(text) : text) as T;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async put(
    requestId: string,
    name: string,
    body: unknown,
    contentType = 'application/json',
  ): Promise<string> {
    await this.clients.get(S3Client).send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.key(requestId, name),
        Body: typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`,
        ContentType: contentType,
        // The vault has Object Lock: S3 needs a checksum on every write.
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    return this.location(requestId, name);
  }

  private async listPrefix(
    prefix: string,
    delimiter?: string,
  ): Promise<{ keys: string[]; prefixes: string[] }> {
    const keys: string[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.clients.get(S3Client).send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          Delimiter: delimiter,
          ContinuationToken: token,
        }),
      );
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      for (const p of r.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
      token = r.NextContinuationToken;
    } while (token);
    return { keys, prefixes };
  }

  async list(): Promise<string[]> {
    const { prefixes } = await this.listPrefix(RESTORES_PREFIX, '/');
    return prefixes.map((p) => p.slice(RESTORES_PREFIX.length, -1));
  }

  async items(requestId: string): Promise<string[]> {
    const prefix = this.key(requestId, 'items/');
    const { keys } = await this.listPrefix(prefix);
    return keys.map((k) => k.slice(prefix.length)).filter((k) => k.endsWith('.json'));
  }
}
