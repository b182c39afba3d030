// AWS adapter (content class): listing a source, server-side copies into the
// vault (CopyObject with an S3-computed SHA-256, metadata and tags copied;
// UploadPartCopy above 5 GiB), manifests and checkpoints, reading versions
// back, and streamed writes for copies between accounts (read with one
// account's credentials, written with the other's: no cross-account grant).
// No policy decisions here: the use cases decide what to copy. The port and
// its shapes are in content-port.ts, the server-side copy in content-copy.ts.
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ObjectLockMode,
  PutObjectCommand,
  PutObjectRetentionCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ListedObject } from '../domain/content.ts';
import type { Clients } from './clients.ts';
import { isAwsError, isMissingObject } from './errors.ts';
import { lockFor, type VaultLock } from './vault-lock.ts';

import {
  type ContentPort,
  type CopyOptions,
  type CopyResult,
  type ObjectRef,
  type ObjectStream,
  STREAM_PART_SIZE,
  type VersionHead,
} from './content-port.ts';
import { serverSideCopy, tagQuery } from './content-copy.ts';

export * from './content-port.ts';
// Re-exported for the content backup's modules, which import it from here (issue 16 owns them today).
import { inParallel } from '../runtime/parallel.ts';
export { inParallel };

export class S3ContentAdapter implements ContentPort {
  constructor(
    private readonly clients: Clients,
    private readonly region?: string,
    /** The vault's retention (vault-lock.ts), stated on every write into the vault. */
    private readonly lock?: VaultLock,
  ) {}

  private get s3(): S3Client {
    return this.clients.get(S3Client, this.region);
  }

  async listPage(bucket: string, prefix: string, startAfter: string | undefined, maxKeys: number) {
    const out = await this.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, StartAfter: startAfter, MaxKeys: maxKeys }),
    );
    const objects: ListedObject[] = (out.Contents ?? []).map((o) => ({
      key: o.Key ?? '',
      size: o.Size ?? 0,
      etag: o.ETag ?? '',
      mtime: (o.LastModified ?? new Date(0)).toISOString(),
      ...(o.StorageClass && o.StorageClass !== 'STANDARD' ? { storageClass: o.StorageClass } : {}),
    }));
    return { objects, truncated: Boolean(out.IsTruncated) };
  }

  async copy(src: ObjectRef, dst: ObjectRef, opts: CopyOptions): Promise<CopyResult> {
    return serverSideCopy(this.s3, this.lock, src, dst, opts);
  }

  async head(ref: ObjectRef): Promise<VersionHead | undefined> {
    try {
      const h = await this.s3.send(
        new HeadObjectCommand({
          Bucket: ref.bucket,
          Key: ref.key,
          VersionId: ref.versionId,
          ChecksumMode: 'ENABLED',
        }),
      );
      // A composite checksum is verified part by part: its part size is that of part 1.
      const partSize = /-\d+$/.test(h.ChecksumSHA256 ?? '')
        ? (
            await this.s3.send(
              new HeadObjectCommand({
                Bucket: ref.bucket,
                Key: ref.key,
                VersionId: h.VersionId ?? ref.versionId,
                PartNumber: 1,
              }),
            )
          ).ContentLength
        : undefined;
      return {
        versionId: h.VersionId ?? '',
        size: h.ContentLength ?? 0,
        lastModified: h.LastModified ?? new Date(0),
        sha256: h.ChecksumSHA256,
        ...(partSize ? { partSize } : {}),
      };
    } catch (e) {
      // A delete marker answers 404 (current) or 405 (by version id).
      if (isMissingObject(e)) return undefined;
      throw e;
    }
  }

  async deleteMarker(bucket: string, key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  async put(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    opts: { contentType?: string; tags?: Record<string, string>; ifMatch?: string; ifNoneMatch?: '*' } = {},
  ) {
    const out = await this.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: opts.contentType,
        ChecksumAlgorithm: 'SHA256',
        Tagging: opts.tags ? tagQuery(opts.tags) : undefined,
        IfMatch: opts.ifMatch,
        IfNoneMatch: opts.ifNoneMatch,
        ...lockFor(this.lock, bucket, key),
      }),
    );
    return { versionId: out.VersionId, etag: out.ETag };
  }

  async get(ref: ObjectRef): Promise<Buffer | undefined> {
    return (await this.getWithEtag(ref))?.body;
  }

  async getWithEtag(ref: ObjectRef): Promise<{ body: Buffer; etag: string } | undefined> {
    try {
      const out = await this.s3.send(
        new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
      );
      const body = Buffer.from(
        await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
      return { body, etag: out.ETag ?? '' };
    } catch (e) {
      if (isAwsError(e, 'notFound')) return undefined;
      throw e;
    }
  }

  async *read(ref: ObjectRef): AsyncIterable<Uint8Array> {
    const out = await this.s3.send(
      new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
    );
    yield* out.Body as AsyncIterable<Uint8Array>;
  }

  async readObject(ref: ObjectRef): Promise<ObjectStream> {
    const s3 = this.s3;
    const out = await s3.send(
      new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
    );
    const tags = await s3.send(
      new GetObjectTaggingCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
    );
    return {
      body: out.Body as AsyncIterable<Uint8Array>,
      size: out.ContentLength ?? 0,
      contentType: out.ContentType,
      cacheControl: out.CacheControl,
      contentDisposition: out.ContentDisposition,
      contentEncoding: out.ContentEncoding,
      contentLanguage: out.ContentLanguage,
      expires: out.Expires,
      metadata: out.Metadata,
      tags: Object.fromEntries((tags.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    };
  }

  async writeObject(
    dst: ObjectRef,
    obj: ObjectStream,
    opts: { ifNoneMatch?: '*' } = {},
  ): Promise<{ versionId: string }> {
    const upload = new Upload({
      client: this.s3,
      params: {
        Bucket: dst.bucket,
        Key: dst.key,
        Body: Readable.from(obj.body),
        ContentType: obj.contentType,
        CacheControl: obj.cacheControl,
        ContentDisposition: obj.contentDisposition,
        ContentEncoding: obj.contentEncoding,
        ContentLanguage: obj.contentLanguage,
        Expires: obj.expires,
        Metadata: obj.metadata,
        ChecksumAlgorithm: 'SHA256',
        ...lockFor(this.lock, dst.bucket, dst.key),
        // PutObject, or CompleteMultipartUpload for a multipart write, carries the condition.
        ...(opts.ifNoneMatch ? { IfNoneMatch: opts.ifNoneMatch } : {}),
      },
      ...(Object.keys(obj.tags).length
        ? { tags: Object.entries(obj.tags).map(([Key, Value]) => ({ Key, Value })) }
        : {}),
      partSize: STREAM_PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const out = await upload.done();
    return { versionId: out.VersionId ?? 'null' };
  }

  async listKeys(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async extendRetention(refs: ObjectRef[], mode: ObjectLockMode, until: Date): Promise<void> {
    await inParallel(refs, 16, async (r) => {
      await this.s3.send(
        new PutObjectRetentionCommand({
          Bucket: r.bucket,
          Key: r.key,
          VersionId: r.versionId,
          Retention: { Mode: mode, RetainUntilDate: until },
        }),
      );
    });
  }

  async deleteKeys(bucket: string, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const out = await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      if (out.Errors?.length) {
        throw new Error(
          `could not delete ${out.Errors.length} object(s) in s3://${bucket}/, first: ${out.Errors[0]?.Key}: ${out.Errors[0]?.Message}`,
        );
      }
    }
  }
}
