// AWS adapter: the S3 and Secrets Manager calls of `kura restore export`
// (shared/usecases/restore-export.ts): listing and reading what a restore put
// in the isolated account, checking and writing where the export goes, and
// reading the restored database's managed password. Refusals are classified
// by the caller through errors.ts.
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Upload } from '@aws-sdk/lib-storage';
import type { Clients } from './clients.ts';
import { lockFor, type VaultLock } from './vault-lock.ts';
import { S3ContentAdapter } from './content.ts';

export interface ListedKey {
  key: string;
  size: number;
}

export interface ReadObject {
  body: AsyncIterable<Uint8Array>;
  size?: number;
  contentType?: string;
  metadata?: Record<string, string>;
}

/** Objects and secrets where one set of clients acts (kura's own, or the isolated account's role). */
export interface ExportObjectsPort {
  /** Every key under the prefix with its size. */
  list(bucket: string, prefix: string): Promise<ListedKey[]>;
  /** Resolves when the bucket exists and these credentials may use it; AWS's refusal otherwise. */
  headBucket(bucket: string): Promise<void>;
  read(bucket: string, key: string): Promise<ReadObject>;
  /** A multipart upload of a stream of unknown length, with a SHA-256 checksum (the vault has Object Lock). */
  upload(
    bucket: string,
    key: string,
    body: Readable,
    opts: { contentType: string; contentEncoding?: string },
  ): Promise<void>;
  putText(bucket: string, key: string, text: string, contentType: string): Promise<void>;
  /** Writes a streamed object, its type and metadata kept, no tags; `ifNoneMatch: '*'`: never over an object (PreconditionFailed). */
  write(
    bucket: string,
    key: string,
    obj: ReadObject & { size: number },
    opts?: { ifNoneMatch?: '*' },
  ): Promise<void>;
  /** The `password` field of a Secrets Manager secret (RDS's managed master password). */
  secretPassword(arn: string): Promise<string>;
}

export class AwsExportObjects implements ExportObjectsPort {
  constructor(
    private readonly clients: Clients,
    private readonly region?: string,
    /** The Object Lock a write into the vault states; none for other buckets. */
    private readonly lock?: VaultLock,
  ) {}

  private get s3(): S3Client {
    return this.clients.get(S3Client, this.region);
  }

  async list(bucket: string, prefix: string): Promise<ListedKey[]> {
    const out: ListedKey[] = [];
    let token: string | undefined;
    do {
      const r = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of r.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0 });
      token = r.NextContinuationToken;
    } while (token);
    return out;
  }

  async headBucket(bucket: string): Promise<void> {
    await this.s3.send(new HeadBucketCommand({ Bucket: bucket }));
  }

  async read(bucket: string, key: string): Promise<ReadObject> {
    const got = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!got.Body) throw new Error(`s3://${bucket}/${key}: empty response body`);
    return {
      body: got.Body as AsyncIterable<Uint8Array>,
      size: got.ContentLength,
      contentType: got.ContentType,
      metadata: got.Metadata,
    };
  }

  async upload(
    bucket: string,
    key: string,
    body: Readable,
    opts: { contentType: string; contentEncoding?: string },
  ): Promise<void> {
    await new Upload({
      client: this.s3,
      params: {
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: opts.contentType,
        ...(opts.contentEncoding ? { ContentEncoding: opts.contentEncoding } : {}),
        ChecksumAlgorithm: 'SHA256',
        ...lockFor(this.lock, bucket, key),
      },
      leavePartsOnError: false,
    }).done();
  }

  async putText(bucket: string, key: string, text: string, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: text,
        ContentType: contentType,
        ChecksumAlgorithm: 'SHA256',
        ...lockFor(this.lock, bucket, key),
      }),
    );
  }

  async write(
    bucket: string,
    key: string,
    obj: ReadObject & { size: number },
    opts: { ifNoneMatch?: '*' } = {},
  ): Promise<void> {
    await new S3ContentAdapter(this.clients, this.region, this.lock).writeObject(
      { bucket, key },
      { body: obj.body, size: obj.size, contentType: obj.contentType, metadata: obj.metadata, tags: {} },
      opts,
    );
  }

  async secretPassword(arn: string): Promise<string> {
    const s = await this.clients
      .get(SecretsManagerClient, this.region)
      .send(new GetSecretValueCommand({ SecretId: arn }));
    const parsed = JSON.parse(s.SecretString ?? '{}') as { password?: string };
    if (!parsed.password) throw new Error(`the secret ${arn} holds no password`);
    return parsed.password;
  }
}
