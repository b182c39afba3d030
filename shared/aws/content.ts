// AWS adapter (content class): listing a source, server-side copies into the
// vault (CopyObject with an S3-computed SHA-256, metadata and tags copied;
// UploadPartCopy above 5 GiB), manifests and checkpoints, reading versions
// back, and streamed writes for copies between accounts (read with one
// account's credentials, written with the other's: no cross-account grant).
// No policy decisions here: the use cases decide what to copy.
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  type CopyObjectCommandOutput,
  CreateMultipartUploadCommand,
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
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  COPY_OBJECT_MAX,
  type ListedObject,
  type PartLimits,
  planParts,
  S3_PART_LIMITS,
} from '../domain/content.ts';
import type { Clients } from './clients.ts';
import { describeAwsError, isAwsError, isMissingObject, tolerate } from './errors.ts';
import { lockFor, type VaultLock } from './vault-lock.ts';

/** Part size of streamed writes (restores into another account): 8 MiB, two parts in flight per object. */
export const STREAM_PART_SIZE = 8 * 1024 * 1024;

export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface CopyResult {
  versionId: string;
  /** S3's SHA-256 of the copy (base64; "…-N" composite for multipart). */
  sha256: string;
  partSize?: number;
  /** The source ETag the copy was made from (differs from the listing when the source changed meanwhile). */
  sourceEtag: string;
  size: number;
  sourceMtime?: string;
}

export interface CopyOptions {
  /** Copy only if the source still has this ETag; on a change, copy the new content and say so. */
  ifMatch?: string;
  size: number;
  /** Objects above this size use multipart copy (default and S3 maximum for CopyObject: 5 GiB). */
  multipartThreshold?: number;
  partLimits?: PartLimits;
}

export interface VersionHead {
  versionId: string;
  size: number;
  lastModified: Date;
  sha256?: string;
  /** For a multipart object (composite checksum "…-N"): the size of its parts, what verifying it needs. */
  partSize?: number;
}

/** An object's bytes as a stream, with what travels with them (type, metadata, tags). */
export interface ObjectStream {
  body: AsyncIterable<Uint8Array>;
  size: number;
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  expires?: Date;
  metadata?: Record<string, string>;
  tags: Record<string, string>;
}

/** What the content use cases need from S3. Tests wrap it to inject faults. */
export interface ContentPort {
  listPage(
    bucket: string,
    prefix: string,
    startAfter: string | undefined,
    maxKeys: number,
  ): Promise<{ objects: ListedObject[]; truncated: boolean }>;
  copy(src: ObjectRef, dst: ObjectRef, opts: CopyOptions): Promise<CopyResult>;
  head(ref: ObjectRef): Promise<VersionHead | undefined>;
  /** Puts a delete marker (versioned bucket: the data stays as a noncurrent version). */
  deleteMarker(bucket: string, key: string): Promise<void>;
  /**
   * Writes an object. `ifNoneMatch: '*'` writes only when the key has no object
   * yet, `ifMatch` only when it still has that ETag (S3 conditional writes):
   * otherwise a PreconditionFailed error, and nothing is written.
   */
  put(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    opts?: { contentType?: string; tags?: Record<string, string>; ifMatch?: string; ifNoneMatch?: '*' },
  ): Promise<{ versionId?: string; etag?: string }>;
  /** The object's bytes, or undefined when it (or that version) does not exist. */
  get(ref: ObjectRef): Promise<Buffer | undefined>;
  /** The object's bytes and ETag (for a conditional write after it), or undefined when there is none. */
  getWithEtag(ref: ObjectRef): Promise<{ body: Buffer; etag: string } | undefined>;
  /** Streams the object's bytes (verify reads large objects without holding them). */
  read(ref: ObjectRef): AsyncIterable<Uint8Array>;
  /** The object (that version) as a stream with its type, metadata and tags, read with this port's credentials. */
  readObject(ref: ObjectRef): Promise<ObjectStream>;
  /**
   * Writes a stream with this port's credentials (multipart above one part,
   * memory bounded by part size x parts in flight); S3 computes its SHA-256.
   * `ifNoneMatch: '*'` writes only when the key has no object yet (else PreconditionFailed).
   */
  writeObject(
    dst: ObjectRef,
    obj: ObjectStream,
    opts?: { ifNoneMatch?: '*' },
  ): Promise<{ versionId: string }>;
  listKeys(bucket: string, prefix: string): Promise<string[]>;
  /** Deletes current objects (unversioned buckets: permanently). For restore clean-up. */
  deleteKeys(bucket: string, keys: string[]): Promise<void>;
  /**
   * Lengthens the Object Lock retention of these versions to `until` (PutObjectRetention:
   * COMPLIANCE allows lengthening, never shortening), several in flight.
   */
  extendRetention(refs: ObjectRef[], mode: ObjectLockMode, until: Date): Promise<void>;
}

function copySource(ref: ObjectRef): string {
  const path = `${ref.bucket}/${ref.key.split('/').map(encodeURIComponent).join('/')}`;
  return ref.versionId ? `${path}?versionId=${encodeURIComponent(ref.versionId)}` : path;
}

function tagQuery(tags: Record<string, string>): string | undefined {
  const q = new URLSearchParams(tags).toString();
  return q || undefined;
}

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
    try {
      return await this.copyOnce(src, dst, opts);
    } catch (e) {
      // The source changed between listing and copy: copy what is there now
      // and let the manifest describe that (its ETag comes from a fresh HEAD).
      if (opts.ifMatch === undefined || !isAwsError(e, 'preconditionFailed')) throw e;
      const now = await this.s3.send(new HeadObjectCommand({ Bucket: src.bucket, Key: src.key }));
      return this.copyOnce(
        src,
        dst,
        { ...opts, ifMatch: now.ETag, size: now.ContentLength ?? opts.size },
        now.LastModified,
      );
    }
  }

  private async copyOnce(
    src: ObjectRef,
    dst: ObjectRef,
    opts: CopyOptions,
    mtime?: Date,
  ): Promise<CopyResult> {
    const threshold = opts.multipartThreshold ?? COPY_OBJECT_MAX;
    if (opts.size > threshold) return this.multipartCopy(src, dst, opts);
    const cmd = new CopyObjectCommand({
      Bucket: dst.bucket,
      Key: dst.key,
      CopySource: copySource(src),
      CopySourceIfMatch: opts.ifMatch,
      MetadataDirective: 'COPY',
      TaggingDirective: 'COPY',
      ChecksumAlgorithm: 'SHA256',
      ...lockFor(this.lock, dst.bucket, dst.key),
    });
    const out: CopyObjectCommandOutput = await this.s3.send(cmd);
    const sha256 = out.CopyObjectResult?.ChecksumSHA256;
    if (!sha256) throw new Error(`copy to s3://${dst.bucket}/${dst.key} returned no SHA-256 checksum`);
    return {
      // "null": the destination is not versioned (a restore target may not be).
      versionId: out.VersionId ?? 'null',
      sha256,
      sourceEtag: opts.ifMatch ?? '',
      size: opts.size,
      ...(mtime ? { sourceMtime: mtime.toISOString() } : {}),
    };
  }

  /**
   * Multipart copy: UploadPartCopy carries bytes but not metadata or tags, so
   * those are read from the source and set on the new upload.
   */
  private async multipartCopy(src: ObjectRef, dst: ObjectRef, opts: CopyOptions): Promise<CopyResult> {
    const s3 = this.s3;
    const head = await s3.send(
      new HeadObjectCommand({
        Bucket: src.bucket,
        Key: src.key,
        VersionId: src.versionId,
        IfMatch: opts.ifMatch,
      }),
    );
    const tags = await s3.send(
      new GetObjectTaggingCommand({ Bucket: src.bucket, Key: src.key, VersionId: src.versionId }),
    );
    const size = head.ContentLength ?? opts.size;
    const parts = planParts(size, opts.partLimits ?? S3_PART_LIMITS);
    const partSize = parts[0] ? parts[0].last - parts[0].first + 1 : size;
    const upload = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: dst.bucket,
        Key: dst.key,
        ChecksumAlgorithm: 'SHA256',
        ...lockFor(this.lock, dst.bucket, dst.key),
        ContentType: head.ContentType,
        CacheControl: head.CacheControl,
        ContentDisposition: head.ContentDisposition,
        ContentEncoding: head.ContentEncoding,
        ContentLanguage: head.ContentLanguage,
        Expires: head.Expires,
        Metadata: head.Metadata,
        Tagging: tagQuery(Object.fromEntries((tags.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']))),
      }),
    );
    const uploadId = upload.UploadId;
    if (!uploadId)
      throw new Error(`CreateMultipartUpload s3://${dst.bucket}/${dst.key} returned no upload id`);
    try {
      const done: { PartNumber: number; ETag?: string; ChecksumSHA256?: string }[] = [];
      // Parts in parallel, a few at a time (each part is copied inside S3).
      const queue = [...parts];
      const worker = async () => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          const r = await s3.send(
            new UploadPartCopyCommand({
              Bucket: dst.bucket,
              Key: dst.key,
              UploadId: uploadId,
              PartNumber: p.partNumber,
              CopySource: copySource(src),
              CopySourceIfMatch: head.ETag,
              CopySourceRange: `bytes=${p.first}-${p.last}`,
            }),
          );
          done.push({
            PartNumber: p.partNumber,
            ETag: r.CopyPartResult?.ETag,
            ChecksumSHA256: r.CopyPartResult?.ChecksumSHA256,
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(4, parts.length) }, worker));
      done.sort((a, b) => a.PartNumber - b.PartNumber);
      const out = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: dst.bucket,
          Key: dst.key,
          UploadId: uploadId,
          MultipartUpload: { Parts: done },
        }),
      );
      // S3 returns the composite checksum ("…-N") of an upload created with ChecksumAlgorithm.
      const sha256 = out.ChecksumSHA256;
      if (!sha256)
        throw new Error(`multipart copy to s3://${dst.bucket}/${dst.key} returned no SHA-256 checksum`);
      return {
        versionId: out.VersionId ?? 'null',
        sha256,
        partSize,
        sourceEtag: head.ETag ?? opts.ifMatch ?? '',
        size,
        sourceMtime: head.LastModified?.toISOString(),
      };
    } catch (e) {
      // The copy's own error is what the caller sees; an abort that fails too is said in it
      // (the vault's lifecycle removes the parts after 7 days). An upload already gone is fine.
      try {
        await tolerate(['notFound'], () =>
          s3.send(new AbortMultipartUploadCommand({ Bucket: dst.bucket, Key: dst.key, UploadId: uploadId })),
        );
      } catch (abortErr) {
        if (e instanceof Error)
          e.message += ` (and aborting upload ${uploadId} failed: ${describeAwsError(abortErr)})`;
      }
      throw e;
    }
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

/** Runs `work` over items with at most `limit` in flight; the first error stops new work and is thrown. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        await work(items[i] as T, i);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}
