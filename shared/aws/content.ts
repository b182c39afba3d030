// AWS adapter (content class): listing a source, server-side copies into the
// vault (CopyObject with an S3-computed SHA-256, metadata and tags copied;
// UploadPartCopy above 5 GiB), manifests and checkpoints, reading versions
// back. No policy decisions here: the use cases decide what to copy.
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
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import {
  COPY_OBJECT_MAX,
  type ListedObject,
  type PartLimits,
  planParts,
  S3_PART_LIMITS,
  sha256OfStream,
} from '../domain/content.ts';
import { Readable } from 'node:stream';
import type { Clients } from './clients.ts';

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
  put(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    opts?: { contentType?: string; tags?: Record<string, string> },
  ): Promise<string | undefined>;
  /** The object's bytes, or undefined when it (or that version) does not exist. */
  get(ref: ObjectRef): Promise<Buffer | undefined>;
  /** Streams the object's bytes (verify reads large objects without holding them). */
  read(ref: ObjectRef): AsyncIterable<Uint8Array>;
  /**
   * Writes a stream read with another account's credentials (a restore into
   * the isolated account: its role may not read the vault, kura's role may
   * not write there), multipart when large.
   */
  upload(dst: ObjectRef, body: AsyncIterable<Uint8Array>): Promise<void>;
  listKeys(bucket: string, prefix: string): Promise<string[]>;
  /** Deletes current objects (unversioned buckets: permanently). For restore clean-up. */
  deleteKeys(bucket: string, keys: string[]): Promise<void>;
}

function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isMissing(e: unknown): boolean {
  const name = (e as Error).name;
  return status(e) === 404 || name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchVersion';
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
    }));
    return { objects, truncated: Boolean(out.IsTruncated) };
  }

  async copy(src: ObjectRef, dst: ObjectRef, opts: CopyOptions): Promise<CopyResult> {
    try {
      return await this.copyOnce(src, dst, opts);
    } catch (e) {
      // The source changed between listing and copy: copy what is there now
      // and let the manifest describe that (its ETag comes from a fresh HEAD).
      if (opts.ifMatch === undefined || (status(e) !== 412 && (e as Error).name !== 'PreconditionFailed'))
        throw e;
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
    });
    if (this.clients.endpoint) {
      // moto 5.2 asks CopyObject into a bucket with default Object Lock
      // retention for the PutObject checksum header (AWS does not: a copy has
      // no request body); sent only to an emulator endpoint.
      cmd.middlewareStack.add(
        (next) => async (args) => {
          (args.request as { headers: Record<string, string> }).headers['x-amz-sdk-checksum-algorithm'] =
            'SHA256';
          return next(args);
        },
        { step: 'build', name: 'kuraEmulatorLockHeader' },
      );
    }
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
      // AWS returns the composite checksum ("…-N") on completion. moto 5.2
      // computes no part checksums for UploadPartCopy (and no composite), so
      // there it is computed from the copy's bytes, read back once.
      let sha256 = out.ChecksumSHA256;
      if (!sha256) {
        const versionId = out.VersionId && out.VersionId !== 'null' ? out.VersionId : undefined;
        sha256 = await this.compositeFromBytes({ ...dst, versionId }, partSize);
      }
      return {
        versionId: out.VersionId ?? 'null',
        sha256,
        partSize,
        sourceEtag: head.ETag ?? opts.ifMatch ?? '',
        size,
        sourceMtime: head.LastModified?.toISOString(),
      };
    } catch (e) {
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: dst.bucket, Key: dst.key, UploadId: uploadId }))
        .catch(() => {});
      throw e;
    }
  }

  /** Only for emulators without part checksums: reads the copy back once. */
  private async compositeFromBytes(ref: ObjectRef, partSize: number): Promise<string> {
    return (await sha256OfStream(this.read(ref), partSize)).sha256;
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
      return {
        versionId: h.VersionId ?? '',
        size: h.ContentLength ?? 0,
        lastModified: h.LastModified ?? new Date(0),
        sha256: h.ChecksumSHA256,
      };
    } catch (e) {
      // A delete marker answers 404 (current) or 405 (by version id).
      if (isMissing(e) || status(e) === 405) return undefined;
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
    opts: { contentType?: string; tags?: Record<string, string> } = {},
  ) {
    const out = await this.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: opts.contentType,
        ChecksumAlgorithm: 'SHA256',
        Tagging: opts.tags ? tagQuery(opts.tags) : undefined,
      }),
    );
    return out.VersionId;
  }

  async get(ref: ObjectRef): Promise<Buffer | undefined> {
    try {
      const out = await this.s3.send(
        new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
      );
      return Buffer.from(
        await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async upload(dst: ObjectRef, body: AsyncIterable<Uint8Array>): Promise<void> {
    const { Upload } = await import('@aws-sdk/lib-storage');
    await new Upload({
      client: this.s3,
      params: { Bucket: dst.bucket, Key: dst.key, Body: Readable.from(body) },
      queueSize: 2,
      leavePartsOnError: false,
    }).done();
  }

  async *read(ref: ObjectRef): AsyncIterable<Uint8Array> {
    const out = await this.s3.send(
      new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
    );
    yield* out.Body as AsyncIterable<Uint8Array>;
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
