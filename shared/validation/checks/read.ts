// Validation checks: reading restored objects in the isolated account.
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { IsolatedTarget } from '../../restore/types.ts';
import type { CheckPorts } from './types.ts';

export async function* readFromIsolated(
  target: IsolatedTarget,
  bucket: string,
  key: string,
): AsyncIterable<Uint8Array> {
  const out = await target.clients
    .get(S3Client, target.region)
    .send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  yield* out.Body as AsyncIterable<Uint8Array>;
}

export function reader(ports: CheckPorts): NonNullable<CheckPorts['readObject']> {
  return ports.readObject ?? readFromIsolated;
}

export function parseS3Id(id: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(id);
  if (!m?.[1]) throw new Error(`not an S3 location: ${id}`);
  return { bucket: m[1], key: m[2] ?? '' };
}
