// Integration: the emulator's vault (local/vault.ts) has every protection the
// template declares but the TLS-only bucket policy.
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ensureVault } from '../../local/vault.ts';
import { tlsOnlyPolicy } from '../../shared/aws/vault.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';

describe('ensureVault', () => {
  it('creates a locked, versioned, KMS-encrypted, private vault on the emulator when it is missing', async () => {
    // Prepare
    const clients = emulatorClients();
    const suffix = uniqueSuffix();
    const policy = testPolicy((p) => {
      p.vault.bucket = `kura-vault-test-${suffix}`;
      p.vault.kmsKeyAlias = `alias/kura-vault-${suffix}`;
    });
    const s3 = clients.get(S3Client);

    // Act
    const vault = await ensureVault(clients, policy);
    const again = await ensureVault(clients, policy);

    // Assess
    expect(vault.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.kmsKeyArn).toBe(vault.kmsKeyArn);
    const Bucket = policy.vault.bucket;
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled');
    const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket }));
    expect(lock.ObjectLockConfiguration?.Rule?.DefaultRetention).toMatchObject({
      Mode: 'COMPLIANCE',
      Days: 7,
    });
    const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(
      enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault,
    ).toMatchObject({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: vault.kmsKeyArn,
    });
    const pab = await s3.send(new GetPublicAccessBlockCommand({ Bucket }));
    expect(pab.PublicAccessBlockConfiguration).toMatchObject({
      BlockPublicAcls: true,
      RestrictPublicBuckets: true,
    });
    // Over the plain-http emulator the TLS-only policy would deny kura itself (moto enforces it):
    // the stack applies it on AWS, the emulator's vault goes without.
    await expect(s3.send(new GetBucketPolicyCommand({ Bucket }))).rejects.toThrow();
    expect(JSON.parse(tlsOnlyPolicy(Bucket)).Statement[0].Condition).toEqual({
      Bool: { 'aws:SecureTransport': 'false' },
    });
    const lc = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }));
    expect(lc.Rules?.map((r) => r.ID)).toContain('abort-incomplete-multipart-uploads');
  });
});
