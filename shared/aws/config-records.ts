// AWS adapter (image class): configuration records as JSON objects in the
// vault bucket, behind a small RecordStore port.
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Clients } from './clients.ts';

export interface RecordStore {
  /** The parsed JSON at `key`, or undefined when there is none. */
  get(key: string): Promise<unknown | undefined>;
  put(key: string, value: unknown): Promise<void>;
  /** Where records live, for messages (s3://bucket/). */
  location(key: string): string;
}

export class S3RecordStore implements RecordStore {
  constructor(
    private readonly clients: Clients,
    private readonly bucket: string,
  ) {}

  location(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async get(key: string): Promise<unknown | undefined> {
    try {
      const r = await this.clients
        .get(S3Client)
        .send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = await r.Body?.transformToString('utf8');
      return body ? JSON.parse(body) : undefined;
    } catch (err) {
      if (err instanceof NoSuchKey || (err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.clients.get(S3Client).send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: `${JSON.stringify(value, null, 2)}\n`,
        ContentType: 'application/json',
      }),
    );
  }
}
