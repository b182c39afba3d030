// AWS adapter (logs): the S3 operations the log archive needs, behind the
// LogStorePort that the log use cases use (and that tests wrap to inject
// faults). Checksums are S3's own SHA-256 (x-amz-checksum-sha256), asked for
// on every write and returned on every read. Decides nothing about policy.
// The port and the shapes it exchanges are in log-store-port.ts.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  RestoreObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { base64ToHex } from '../domain/logs/manifest.ts';
import type { TagMap } from '../domain/tags.ts';
import type { Clients } from './clients.ts';
import { isAwsError } from './errors.ts';
import { lockFor, type VaultLock } from './vault-lock.ts';

import type {
  IncompleteUpload,
  LogStorePort,
  ObjectBody,
  ObjectInfo,
  StoredObject,
} from './log-store-port.ts';

export type * from './log-store-port.ts';

export const UPLOAD_PART_SIZE = 8 * 1024 * 1024;
export const UPLOAD_QUEUE_SIZE = 2;

export function tagString(tags: TagMap): string {
  return new URLSearchParams(Object.entries(tags)).toString();
}

export class S3LogStore implements LogStorePort {
  constructor(
    private readonly clients: Clients,
    /** The vault's retention (vault-lock.ts), stated on every write into the vault. */
    private readonly lock?: VaultLock,
  ) {}

  private s3(): S3Client {
    return this.clients.get(S3Client);
  }

  async list(bucket: string, prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    for await (const page of paginateListObjectsV2(
      { client: this.s3() },
      { Bucket: bucket, Prefix: prefix },
    )) {
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        out.push({
          key: o.Key,
          size: o.Size ?? 0,
          etag: o.ETag ?? '',
          lastModified: o.LastModified ?? new Date(0),
          storageClass: o.StorageClass,
        });
      }
    }
    return out;
  }

  async head(
    bucket: string,
    key: string,
    opts: { versionId?: string } = {},
  ): Promise<ObjectInfo | undefined> {
    try {
      const h = await this.s3().send(
        new HeadObjectCommand({
          Bucket: bucket,
          Key: key,
          VersionId: opts.versionId,
          ChecksumMode: 'ENABLED',
        }),
      );
      return {
        key,
        size: h.ContentLength ?? 0,
        etag: h.ETag ?? '',
        lastModified: h.LastModified ?? new Date(0),
        storageClass: h.StorageClass ?? 'STANDARD',
        versionId: h.VersionId,
        sha256: base64ToHex(h.ChecksumSHA256),
        restore: h.Restore,
      };
    } catch (err) {
      if (isAwsError(err, 'notFound')) return undefined;
      throw err;
    }
  }

  async copy(
    from: { bucket: string; key: string; etag: string },
    to: { bucket: string; key: string },
    tags: TagMap,
  ): Promise<{ versionId?: string; sha256?: string }> {
    const command = new CopyObjectCommand({
      Bucket: to.bucket,
      Key: to.key,
      CopySource: `${from.bucket}/${from.key.split('/').map(encodeURIComponent).join('/')}`,
      CopySourceIfMatch: from.etag,
      ChecksumAlgorithm: 'SHA256',
      MetadataDirective: 'COPY',
      TaggingDirective: 'REPLACE',
      Tagging: tagString(tags),
      ...lockFor(this.lock, to.bucket, to.key),
    });
    const out = await this.s3().send(command);
    return {
      ...(out.VersionId ? { versionId: out.VersionId } : {}),
      ...(out.CopyObjectResult?.ChecksumSHA256
        ? { sha256: base64ToHex(out.CopyObjectResult.ChecksumSHA256) }
        : {}),
    };
  }

  async read(
    bucket: string,
    key: string,
    opts: { versionId?: string; etag?: string } = {},
  ): Promise<ObjectBody> {
    const out = await this.s3().send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        VersionId: opts.versionId,
        IfMatch: opts.etag,
        ChecksumMode: 'ENABLED',
      }),
    );
    if (!out.Body) throw new Error(`s3://${bucket}/${key}: empty response body`);
    return {
      body: out.Body as AsyncIterable<Uint8Array>,
      size: out.ContentLength ?? 0,
      etag: out.ETag ?? '',
      versionId: out.VersionId,
      sha256: base64ToHex(out.ChecksumSHA256),
    };
  }

  async upload(
    bucket: string,
    key: string,
    body: Readable,
    opts: { tags: TagMap; contentType: string },
  ): Promise<{ versionId?: string; etag?: string }> {
    const upload = new Upload({
      client: this.s3(),
      params: {
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: opts.contentType,
        ChecksumAlgorithm: 'SHA256',
        ...lockFor(this.lock, bucket, key),
      },
      ...(Object.keys(opts.tags).length
        ? { tags: Object.entries(opts.tags).map(([Key, Value]) => ({ Key, Value })) }
        : {}),
      partSize: UPLOAD_PART_SIZE,
      queueSize: UPLOAD_QUEUE_SIZE,
      // A failed upload aborts its parts (the lifecycle rule catches what a crash leaves).
      leavePartsOnError: false,
    });
    const out = await upload.done();
    return { versionId: out.VersionId, etag: out.ETag };
  }

  async putText(
    bucket: string,
    key: string,
    text: string,
    opts: { tags: TagMap; contentType: string; ifNoneMatch?: '*' },
  ): Promise<{ versionId?: string }> {
    const out = await this.s3().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: Buffer.from(text, 'utf8'),
        ContentType: opts.contentType,
        IfNoneMatch: opts.ifNoneMatch,
        // The algorithm header, not a precomputed value: Object Lock buckets require it (or Content-MD5).
        ChecksumAlgorithm: 'SHA256',
        Tagging: tagString(opts.tags),
        ...lockFor(this.lock, bucket, key),
      }),
    );
    return { versionId: out.VersionId };
  }

  async remove(bucket: string, key: string, opts: { ifMatch?: string } = {}): Promise<void> {
    try {
      await this.s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: opts.ifMatch }));
    } catch (err) {
      // A conditional delete of a key that is gone answers 404: on a retry
      // whose first answer was lost, the delete did happen. Gone is the goal.
      if (!(opts.ifMatch && isAwsError(err, 'notFound'))) throw err;
    }
  }

  async incompleteUploads(bucket: string, prefix: string): Promise<IncompleteUpload[]> {
    const out: IncompleteUpload[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.s3().send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const u of page.Uploads ?? [])
        if (u.Key && u.UploadId)
          out.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? new Date(0) });
      if (!page.IsTruncated) return out;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  async beginUpload(
    bucket: string,
    key: string,
    opts: { tags: TagMap; contentType: string },
  ): Promise<string> {
    const out = await this.s3().send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ContentType: opts.contentType,
        ChecksumAlgorithm: 'SHA256',
        Tagging: tagString(opts.tags),
        // A bundle written across invocations states its class's lock like every other bundle.
        ...lockFor(this.lock, bucket, key),
      }),
    );
    if (!out.UploadId) throw new Error(`s3://${bucket}/${key}: CreateMultipartUpload returned no UploadId`);
    return out.UploadId;
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Buffer,
  ): Promise<{ etag: string }> {
    const out = await this.s3().send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
        // Computed here and checked by S3: a part corrupted on the way is refused.
        ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
      }),
    );
    return { etag: out.ETag ?? '' };
  }

  async completeUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string; sha256: string }[],
  ): Promise<{ versionId?: string }> {
    const out = await this.s3().send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: parts.map((p) => ({
            PartNumber: p.partNumber,
            ETag: p.etag,
            ChecksumSHA256: Buffer.from(p.sha256, 'hex').toString('base64'),
          })),
        },
      }),
    );
    return { versionId: out.VersionId };
  }

  async putBytes(bucket: string, key: string, body: Buffer): Promise<void> {
    await this.s3().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: 'application/octet-stream',
        ChecksumAlgorithm: 'SHA256',
      }),
    );
  }

  async abortUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    try {
      await this.s3().send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch (err) {
      if (!isAwsError(err, 'notFound')) throw err;
    }
  }

  async requestRestore(
    bucket: string,
    key: string,
    days: number,
    opts: { versionId?: string } = {},
  ): Promise<'requested' | 'in progress'> {
    try {
      await this.s3().send(
        new RestoreObjectCommand({
          Bucket: bucket,
          Key: key,
          VersionId: opts.versionId,
          RestoreRequest: { Days: days, GlacierJobParameters: { Tier: 'Standard' } },
        }),
      );
      return 'requested';
    } catch (err) {
      // A restore already under way is fine: the object becomes readable when it ends.
      if (!isAwsError(err, 'inProgress')) throw err;
      return 'in progress';
    }
  }
}
