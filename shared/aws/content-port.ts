// AWS port (content class): what the content backup, restore and verify use
// cases ask of S3 (S3ContentAdapter in content.ts implements it), and the
// shapes they exchange. No policy decisions here.
import type { ObjectLockMode } from '@aws-sdk/client-s3';
import type { ListedObject, PartLimits } from '../domain/content.ts';

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
