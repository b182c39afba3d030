// Test support (logs): a vault and a landing bucket of its own for one test
// file, and helpers to drop rotated logs and read what the vault holds.
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Clients } from '../../shared/aws/clients.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { ensureVault } from '../../local/vault.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from './emulator.ts';

export interface LogsWorld {
  clients: Clients;
  policy: Policy;
  s3: S3Client;
  store: S3LogStore;
  landingBucket: string;
  landingPrefix: string;
  vault: string;
  deps: { policy: Policy; clients: Clients };
}

export async function logsWorld(): Promise<LogsWorld> {
  const clients = emulatorClients();
  const sfx = uniqueSuffix();
  const landingBucket = `kura-landing-${sfx}`;
  const policy = testPolicy((p) => {
    p.vault.bucket = `kura-vault-logs-${sfx}`;
    if (p.logs) p.logs.landing = `s3://${landingBucket}/incoming/`;
  });
  const s3 = clients.get(S3Client);
  await s3.send(
    new CreateBucketCommand({
      Bucket: landingBucket,
      CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-1' },
    }),
  );
  await ensureVault(clients, policy);
  return {
    clients,
    policy,
    s3,
    store: new S3LogStore(clients),
    landingBucket,
    landingPrefix: 'incoming/',
    vault: policy.vault.bucket,
    deps: { policy, clients },
  };
}

/** Realistic access-log text for one host and day, `lines` lines long. */
export function accessLog(host: string, day: string, lines: number, seed = 0): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = (i * 7919 + seed * 104729) % 65536;
    out.push(
      `10.${n % 256}.${(n >> 8) % 256}.${(i + seed) % 250} - - [${day}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00+09:00] "GET /shop/items/${n} HTTP/1.1" 200 ${1000 + (n % 5000)} "-" "Mozilla/5.0 (${host})"`,
    );
  }
  return `${out.join('\n')}\n`;
}

export async function dropLog(
  w: LogsWorld,
  key: string,
  body: string | Buffer,
  opts: { sha256?: boolean } = {},
): Promise<void> {
  await w.s3.send(
    new PutObjectCommand({
      Bucket: w.landingBucket,
      Key: `${w.landingPrefix}${key}`,
      Body: body,
      ...(opts.sha256 ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
    }),
  );
}

export async function keys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
    token = page.NextContinuationToken;
  } while (token);
  return out.sort();
}

export async function bytesOf(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

export function sha256(b: string | Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Puts a loose log straight into the vault, as log-archive leaves it (SHA-256 checksum, managed tags). */
export async function putLoose(
  w: LogsWorld,
  logClass: string,
  host: string,
  day: string,
  file: string,
  body: string | Buffer,
): Promise<string> {
  const key = `logs/${logClass}/${host}/${day}/${file}`;
  await w.s3.send(
    new PutObjectCommand({
      Bucket: w.vault,
      Key: key,
      Body: body,
      ChecksumAlgorithm: 'SHA256',
      Tagging: 'kura%3Amanaged=true&kura%3Aclass=logs',
    }),
  );
  return key;
}
