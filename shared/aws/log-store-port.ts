// AWS port (logs): what the log use cases ask of S3 (S3LogStore implements
// it; tests wrap it to inject faults), and the shapes it exchanges.
import type { Readable } from 'node:stream';
import type { TagMap } from '../domain/tags.ts';

export interface StoredObject {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
  storageClass?: string;
}

export interface ObjectInfo extends StoredObject {
  versionId?: string;
  /** Hex SHA-256 of the whole object when S3 holds a full-object SHA-256 checksum. */
  sha256?: string;
  /** x-amz-restore of an archived object (e.g. ongoing-request="false", expiry-date=…). */
  restore?: string;
}

export interface ObjectBody {
  body: AsyncIterable<Uint8Array>;
  size: number;
  etag: string;
  versionId?: string;
  sha256?: string;
}

export interface LogStorePort {
  list(bucket: string, prefix: string): Promise<StoredObject[]>;
  /** The object (that version when given), or undefined when there is none. */
  head(bucket: string, key: string, opts?: { versionId?: string }): Promise<ObjectInfo | undefined>;
  /**
   * Server-side copy (single request, up to 5 GB) that asks S3 for the copy's
   * SHA-256 (hex). Only copies the listed version (If-Match). It reads nothing
   * back from the destination: the writer may be a role that can only add
   * there (a source account's kura-source role), so the caller checks the copy
   * with its own head.
   */
  copy(
    from: { bucket: string; key: string; etag: string },
    to: { bucket: string; key: string },
    tags: TagMap,
  ): Promise<{ versionId?: string; sha256?: string }>;
  read(bucket: string, key: string, opts?: { versionId?: string; etag?: string }): Promise<ObjectBody>;
  /** Multipart upload of a stream of unknown length; memory is bounded by part size x queue size. */
  upload(
    bucket: string,
    key: string,
    body: Readable,
    opts: { tags: TagMap; contentType: string },
  ): Promise<{ versionId?: string; etag?: string }>;
  /** `ifNoneMatch: '*'`: only when the key has no object yet (else PreconditionFailed, nothing written). */
  putText(
    bucket: string,
    key: string,
    text: string,
    opts: { tags: TagMap; contentType: string; ifNoneMatch?: '*' },
  ): Promise<{ versionId?: string }>;
  /**
   * Removes the current version: on a versioned bucket (the vault) a delete
   * marker, so the data stays as a noncurrent version until lifecycle or
   * Object Lock allows its removal. With `ifMatch`, only when the object is
   * still the one listed (a conditional delete).
   */
  remove(bucket: string, key: string, opts?: { ifMatch?: string }): Promise<void>;
  /**
   * Asks S3 to restore an archived object (that version) for `days`, Standard
   * tier; 'in progress' when a restore was already asked for and is under way.
   */
  requestRestore(
    bucket: string,
    key: string,
    days: number,
    opts?: { versionId?: string },
  ): Promise<'requested' | 'in progress'>;
  /** Multipart uploads begun and neither completed nor aborted, under `prefix`. */
  incompleteUploads(bucket: string, prefix: string): Promise<IncompleteUpload[]>;
  /** Aborts one (its parts are freed); one already gone is no error. */
  abortUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  /**
   * A multipart upload driven part by part, so that it can outlive one
   * invocation: begun here, its parts sent (each with its SHA-256, which S3
   * checks), completed with the parts' list.
   */
  beginUpload(bucket: string, key: string, opts: { tags: TagMap; contentType: string }): Promise<string>;
  uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Buffer,
  ): Promise<{ etag: string }>;
  completeUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string; sha256: string }[],
  ): Promise<{ versionId?: string }>;
  /** Whole bytes (a bundle's pending tail), with S3's SHA-256 asked for. */
  putBytes(bucket: string, key: string, body: Buffer): Promise<void>;
}

export interface IncompleteUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** Part size and parallel parts of bundle uploads: the memory bound of a bundling run (2 x 8 MiB). */
