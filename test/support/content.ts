// Test support (content class): a source bucket with objects, and a policy
// whose vault and content sources are unique to the calling test.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Clients } from '../../shared/aws/clients.ts';
import { ensureVault } from '../../local/vault.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { testPolicy, uniqueSuffix } from './emulator.ts';

export interface ContentFixture {
  policy: Policy;
  sourceBucket: string;
  prefix: string;
  name: string;
}

/** `overrides` adjusts the fixture's policy (e.g. a GOVERNANCE vault a test may bypass). */
export async function contentFixture(
  clients: Clients,
  generations = 7,
  overrides: (p: Policy) => void = () => {},
): Promise<ContentFixture> {
  const s = uniqueSuffix();
  const sourceBucket = `kura-src-${s}`;
  const prefix = 'images/';
  const name = `app-${s}`;
  const policy = testPolicy((p) => {
    p.vault.bucket = `kura-vault-${s}`;
    p.vault.kmsKeyAlias = `alias/kura-vault-${s}`;
    p.content = [{ name, source: `s3://${sourceBucket}/${prefix}`, generations }];
    overrides(p);
  });
  const s3 = clients.get(S3Client);
  await s3.send(
    new CreateBucketCommand({
      Bucket: sourceBucket,
      CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-1' },
    }),
  );
  await ensureVault(clients, policy);
  return { policy, sourceBucket, prefix, name };
}

export interface SourceObject {
  body: string | Buffer;
  contentType?: string;
  metadata?: Record<string, string>;
  tags?: Record<string, string>;
}

export async function putSource(
  clients: Clients,
  f: ContentFixture,
  key: string,
  o: SourceObject,
): Promise<void> {
  await clients.get(S3Client).send(
    new PutObjectCommand({
      Bucket: f.sourceBucket,
      Key: f.prefix + key,
      Body: o.body,
      ContentType: o.contentType ?? 'image/png',
      Metadata: o.metadata,
      Tagging: o.tags ? new URLSearchParams(o.tags).toString() : undefined,
    }),
  );
}

export async function deleteSource(clients: Clients, f: ContentFixture, key: string): Promise<void> {
  await clients.get(S3Client).send(new DeleteObjectCommand({ Bucket: f.sourceBucket, Key: f.prefix + key }));
}

export interface ObjectSnapshot {
  body: string;
  contentType?: string;
  metadata: Record<string, string>;
  tags: Record<string, string>;
}

/** Bytes, content type, user metadata and tags of one object (version). */
export async function snapshotObject(
  clients: Clients,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<ObjectSnapshot> {
  const s3 = clients.get(S3Client);
  const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  const body = Buffer.from(
    await (get.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  ).toString('base64');
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  const tagging = await s3.send(
    new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
  );
  return {
    body,
    contentType: head.ContentType,
    metadata: head.Metadata ?? {},
    tags: Object.fromEntries((tagging.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

/** Counts an object's method calls by name (for a port: each is one S3 request). */
export function counting<T extends object>(real: T): { port: T; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const port = new Proxy(real, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return v.apply(target, args);
      };
    },
  });
  return { port, calls };
}
