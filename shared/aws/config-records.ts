// AWS adapter (image class): configuration records as JSON objects in the
// vault bucket, behind a small RecordStore port. The vault-objects store is
// the implementation; S3RecordStore is its name where the image class uses it.
import { S3VaultObjects } from './vault-objects.ts';

export interface RecordStore {
  /** The parsed JSON at `key`, or undefined when there is none. */
  get(key: string): Promise<unknown | undefined>;
  put(key: string, value: unknown): Promise<unknown>;
  /** Where records live, for messages (s3://bucket/). */
  location(key: string): string;
}

export { S3VaultObjects as S3RecordStore };
