// Integration: the vault in COMPLIANCE mode, per class. Each adapter that
// writes into the vault states its key's retain-until date (read back with
// HeadObject), and a locked version stays: no one may delete it (with or
// without the governance bypass), nor shorten its retention; lengthening it is
// allowed. The refusals are S3's (kura's emulator reproduces PutObjectRetention's).
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ensureVault } from '../../local/vault.ts';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { isAwsError } from '../../shared/aws/errors.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { vaultLock } from '../../shared/aws/vault-lock.ts';
import { VaultStore } from '../../shared/aws/vault-objects.ts';
import { vaultRetention } from '../../shared/domain/vault-retention.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';

const DAY = 86_400_000;

async function vault() {
  const clients = emulatorClients();
  const suffix = uniqueSuffix();
  const policy = testPolicy((p) => {
    p.vault.bucket = `kura-lock-${suffix}`;
    p.vault.kmsKeyAlias = `alias/kura-lock-${suffix}`;
  });
  await ensureVault(clients, policy);
  return { clients, policy, s3: clients.get(S3Client) };
}

describe('the vault in COMPLIANCE mode', () => {
  it('has every writer state its class retention: content, logs, bundles, reports, restore records', async () => {
    // Prepare
    const { clients, policy, s3 } = await vault();
    const lock = vaultLock(policy);
    const bucket = policy.vault.bucket;
    const content = policy.content[0]?.name as string;
    const before = Date.now();

    // Act
    const adapter = new S3ContentAdapter(clients, undefined, lock);
    await adapter.put(bucket, `content/${content}/objects/u1/a.png`, 'png');
    await adapter.put(bucket, `manifests/content/${content}/generations/2026-11-01.index.json`, '{}');
    await adapter.writeObject(
      { bucket, key: `content/${content}/objects/u1/b.png` },
      { body: Readable.from([Buffer.from('b')]), size: 1, tags: {} },
    );
    const logs = new S3LogStore(clients, lock);
    await logs.putText(bucket, 'logs/access/web-1/2026-11-01/access.log', 'line\n', {
      tags: {},
      contentType: 'text/plain',
    });
    await logs.upload(
      bucket,
      'log-bundles/access/web-1/2026-08/part-001.tar.gz',
      Readable.from([Buffer.from('tar')]),
      {
        tags: {},
        contentType: 'application/gzip',
      },
    );
    await logs.copy(
      {
        bucket,
        key: 'logs/access/web-1/2026-11-01/access.log',
        etag:
          (
            await s3.send(
              new HeadObjectCommand({ Bucket: bucket, Key: 'logs/access/web-1/2026-11-01/access.log' }),
            )
          ).ETag ?? '',
      },
      { bucket, key: 'logs/application/web-1/2026-11-01/app.log' },
      {},
    );
    await new VaultStore(clients, policy).put('reports/validation/r1/report.json', { ok: true });
    await new S3RestoreStore(clients, bucket, lock).put('req-1', 'report.json', { ok: true });
    const after = Date.now();

    // Assess
    const keys = [
      `content/${content}/objects/u1/a.png`,
      `content/${content}/objects/u1/b.png`,
      `manifests/content/${content}/generations/2026-11-01.index.json`,
      'logs/access/web-1/2026-11-01/access.log',
      'log-bundles/access/web-1/2026-08/part-001.tar.gz',
      'logs/application/web-1/2026-11-01/app.log',
      'reports/validation/r1/report.json',
      'restores/req-1/report.json',
    ];
    for (const key of keys) {
      const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      const days = vaultRetention(policy, key).days;
      expect(h.ObjectLockMode, key).toBe('COMPLIANCE');
      const until = h.ObjectLockRetainUntilDate?.getTime() ?? 0;
      // S3 keeps the date to the second.
      expect(until, key).toBeGreaterThanOrEqual(before + days * DAY - 1000);
      expect(until, key).toBeLessThanOrEqual(after + days * DAY + 1000);
    }
    // Classes differ: content a week and a day, access logs until bundled, bundles years, reports 7 years.
    expect(new Set(keys.map((k) => vaultRetention(policy, k).days)).size).toBeGreaterThanOrEqual(4);
  });

  it('refuses to delete a locked version, with or without the governance bypass, and to shorten its lock', async () => {
    // Prepare
    const { clients, policy, s3 } = await vault();
    const bucket = policy.vault.bucket;
    const key = 'log-bundles/access/web-1/2026-08/part-002.tar.gz';
    const put = await new S3LogStore(clients, vaultLock(policy)).putText(bucket, key, 'bundle', {
      tags: {},
      contentType: 'application/gzip',
    });
    const versionId = put.versionId as string;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    const until = head.ObjectLockRetainUntilDate as Date;

    // Act
    const deleted = await s3
      .send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))
      .catch((e: unknown) => e);
    const bypassed = await s3
      .send(
        new DeleteObjectCommand({
          Bucket: bucket,
          Key: key,
          VersionId: versionId,
          BypassGovernanceRetention: true,
        }),
      )
      .catch((e: unknown) => e);
    const shortened = await s3
      .send(
        new PutObjectRetentionCommand({
          Bucket: bucket,
          Key: key,
          VersionId: versionId,
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + DAY) },
        }),
      )
      .catch((e: unknown) => e);
    const toGovernance = await s3
      .send(
        new PutObjectRetentionCommand({
          Bucket: bucket,
          Key: key,
          VersionId: versionId,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until },
          BypassGovernanceRetention: true,
        }),
      )
      .catch((e: unknown) => e);
    const lengthened = await s3.send(
      new PutObjectRetentionCommand({
        Bucket: bucket,
        Key: key,
        VersionId: versionId,
        Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(until.getTime() + 30 * DAY) },
      }),
    );

    // Assess
    for (const refused of [deleted, bypassed, shortened, toGovernance])
      expect(isAwsError(refused, 'accessDenied'), String(refused)).toBe(true);
    expect(lengthened.$metadata.httpStatusCode).toBe(200);
    const now = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    expect(now.ObjectLockRetainUntilDate?.getTime()).toBe(until.getTime() + 30 * DAY);
    expect(now.ObjectLockMode).toBe('COMPLIANCE');
  });

  it('lets a delete marker hide a locked object, while the locked version stays readable', async () => {
    // Prepare
    const { policy, s3 } = await vault();
    const bucket = policy.vault.bucket;
    const key = 'restores/req-2/report.json';
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: '{}',
        ChecksumAlgorithm: 'SHA256',
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + DAY),
      }),
    );

    // Act
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));

    // Assess
    const old = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: put.VersionId }));
    expect(old.ObjectLockMode).toBe('COMPLIANCE');
  });
});
