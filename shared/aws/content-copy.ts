// AWS adapter (content class): the server-side copy into the vault.
// CopyObject with an S3-computed SHA-256, metadata and tags copied; above the
// CopyObject limit, UploadPartCopy with the metadata and tags read from the
// source and set on the new upload. The vault's lock is stated on each write.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  type CopyObjectCommandOutput,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { COPY_OBJECT_MAX, planParts, S3_PART_LIMITS } from '../domain/content.ts';
import { describeAwsError, isAwsError, tolerate } from './errors.ts';
import { lockFor, type VaultLock } from './vault-lock.ts';

import type { CopyOptions, CopyResult, ObjectRef } from './content-port.ts';

export function copySource(ref: ObjectRef): string {
  const path = `${ref.bucket}/${ref.key.split('/').map(encodeURIComponent).join('/')}`;
  return ref.versionId ? `${path}?versionId=${encodeURIComponent(ref.versionId)}` : path;
}

export function tagQuery(tags: Record<string, string>): string | undefined {
  const q = new URLSearchParams(tags).toString();
  return q || undefined;
}

export async function serverSideCopy(
  s3: S3Client,
  lock: VaultLock | undefined,
  src: ObjectRef,
  dst: ObjectRef,
  opts: CopyOptions,
): Promise<CopyResult> {
  try {
    return await copyOnce(s3, lock, src, dst, opts);
  } catch (e) {
    // The source changed between listing and copy: copy what is there now
    // and let the manifest describe that (its ETag comes from a fresh HEAD).
    if (opts.ifMatch === undefined || !isAwsError(e, 'preconditionFailed')) throw e;
    const now = await s3.send(new HeadObjectCommand({ Bucket: src.bucket, Key: src.key }));
    return copyOnce(
      s3,
      lock,
      src,
      dst,
      { ...opts, ifMatch: now.ETag, size: now.ContentLength ?? opts.size },
      now.LastModified,
    );
  }
}

async function copyOnce(
  s3: S3Client,
  lock: VaultLock | undefined,
  src: ObjectRef,
  dst: ObjectRef,
  opts: CopyOptions,
  mtime?: Date,
): Promise<CopyResult> {
  const threshold = opts.multipartThreshold ?? COPY_OBJECT_MAX;
  if (opts.size > threshold) return multipartCopy(s3, lock, src, dst, opts);
  const cmd = new CopyObjectCommand({
    Bucket: dst.bucket,
    Key: dst.key,
    CopySource: copySource(src),
    CopySourceIfMatch: opts.ifMatch,
    MetadataDirective: 'COPY',
    TaggingDirective: 'COPY',
    ChecksumAlgorithm: 'SHA256',
    ...lockFor(lock, dst.bucket, dst.key),
  });
  const out: CopyObjectCommandOutput = await s3.send(cmd);
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
async function multipartCopy(
  s3: S3Client,
  lock: VaultLock | undefined,
  src: ObjectRef,
  dst: ObjectRef,
  opts: CopyOptions,
): Promise<CopyResult> {
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
      ...lockFor(lock, dst.bucket, dst.key),
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
  if (!uploadId) throw new Error(`CreateMultipartUpload s3://${dst.bucket}/${dst.key} returned no upload id`);
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
