// Integration (reports): `kura report lifecycle` reads the real vault (moto over
// HTTP, real SDK clients) and flags exactly the protections that drifted;
// it measures the vault's volume per class for the cost projection; and the
// CLI's JSON output parses.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  PutBucketEncryptionCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Clients } from '../../shared/aws/clients.ts';
import { readVaultConfig } from '../../shared/aws/vault-config.ts';
import { ensureVault } from '../../local/vault.ts';
import { SINGLE_ACCOUNT_EXPOSURE } from '../../shared/domain/lifecycle/report.ts';
import { STATED_PRICES } from '../../shared/domain/reports/cost.ts';
import { vaultDrift } from '../../shared/domain/reports/vault-drift.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { lifecycleAudit } from '../../shared/usecases/report-lifecycle.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { runKura } from '../support/kura-cli.ts';
import { lifecyclePorts } from '../../shared/edge/report-ports.ts';

let clients: Clients;

/** A fresh vault of its own, made by ensureVault with every protection. */
async function vault(): Promise<Policy> {
  const sfx = uniqueSuffix();
  const policy = testPolicy((p) => {
    p.vault.bucket = `kura-vault-reports-${sfx}`;
    p.vault.kmsKeyAlias = `alias/kura-vault-reports-${sfx}`;
    p.database = undefined;
    p.images = undefined;
  });
  await ensureVault(clients, policy);
  return policy;
}

const drifted = async (policy: Policy) =>
  vaultDrift(policy, await readVaultConfig(clients, policy))
    .filter((d) => !d.ok)
    .map((d) => d.check);

// Over plain HTTP kura applies no bucket policy (it would lock itself out of moto).
const NO_POLICY_OVER_HTTP = ['bucket policy: TLS-only deny', 'bucket policy: administrators only'];

beforeAll(() => {
  clients = emulatorClients();
});

describe('kura report lifecycle against a real vault', () => {
  it('finds no drift but the bucket policy on a vault ensureVault made', async () => {
    const policy = await vault();
    expect(await drifted(policy)).toEqual(NO_POLICY_OVER_HTTP);
  });

  it('flags exactly the Object Lock days and the public access block flag that were changed', async () => {
    // Prepare
    const policy = await vault();
    const s3 = clients.get(S3Client);
    const Bucket = policy.vault.bucket;

    // Act: drift the vault behind kura's back.
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
        },
      }),
    );
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: false,
        },
      }),
    );

    // Assess
    const report = vaultDrift(policy, await readVaultConfig(clients, policy));
    expect(report.filter((d) => !d.ok).map((d) => [d.check, d.actual])).toEqual([
      ['Object Lock default retention (days)', '1'],
      ['public access block: RestrictPublicBuckets', 'false'],
      ...NO_POLICY_OVER_HTTP.map((c) => [c, 'no bucket policy']),
    ]);
  });

  it('flags a vault re-encrypted with a key other than the policy alias', async () => {
    const policy = await vault();
    const other = await clients
      .get(KMSClient)
      .send(new CreateKeyCommand({ Description: 'not the vault key' }));
    await clients.get(S3Client).send(
      new PutBucketEncryptionCommand({
        Bucket: policy.vault.bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: other.KeyMetadata?.KeyId,
              },
            },
          ],
        },
      }),
    );
    expect(await drifted(policy)).toEqual(['encryption key', ...NO_POLICY_OVER_HTTP]);
  });

  it('measures the volume per class and projects its cost at the stated prices', async () => {
    // Prepare: a day of access logs and a content object in the vault.
    const policy = await vault();
    const s3 = clients.get(S3Client);
    const Bucket = policy.vault.bucket;
    const name = policy.content[0]?.name ?? '';
    await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'logs/access/web-1/2026-11-20/access.log',
        Body: 'x'.repeat(4096),
      }),
    );
    await s3.send(
      new PutObjectCommand({ Bucket, Key: `content/${name}/objects/a.jpg`, Body: 'y'.repeat(1000) }),
    );

    // Act
    const rep = await lifecycleAudit({ policy, clients }, lifecyclePorts({ policy, clients }), {
      now: new Date(),
      prices: STATED_PRICES,
    });

    // Assess
    const rows = new Map(rep.costs?.rows.map((r) => [r.name, r]));
    expect(rows.get('logs: access')?.bytesNow).toBe(4096);
    // One day held: a day's intake is kept loose ~76 days and as bundles 2 500 days.
    expect(rows.get('logs: access')?.steady.DEEP_ARCHIVE).toBeGreaterThan(4096 * 2000);
    expect(rows.get(`content: ${name}`)?.bytesNow).toBe(1000);
    expect(rep.costs?.notes[0]).toMatch(/STATED, not fetched/);
    expect(rep.drift?.find((d) => d.check === 'Object Lock default retention (days)')?.ok).toBe(true);
  });

  it('prints JSON that parses and exits 1 with --check when the vault drifted', async () => {
    const policy = await vault();
    const file = join(tmpdir(), `kura-reports-${policy.vault.bucket}.yml`);
    writeFileSync(file, stringify(policy));
    const run = (args: string[]) => runKura(['--policy', file, 'report', 'lifecycle', ...args]);

    // One run: --check with JSON, as a scheduled job would call it.
    const r = await run(['--check', '--format', 'json']);
    expect(r.code, 'no bucket policy over HTTP: the vault drifted').toBe(1);
    const rep = JSON.parse(r.stdout);
    expect(rep.bucket).toBe(policy.vault.bucket);
    expect(rep.costs.prices.asOf).toBe(STATED_PRICES.asOf);
    expect(rep.drift.filter((d: { ok: boolean }) => !d.ok).map((d: { check: string }) => d.check)).toEqual(
      NO_POLICY_OVER_HTTP,
    );
    // Single-account mode (no sources): said plainly, in JSON as in the table.
    expect(rep.exposure).toEqual([SINGLE_ACCOUNT_EXPOSURE]);
    expect(rep.retention.find((x: { prefix: string }) => x.prefix === 'logs/access/')).toMatchObject({
      mode: 'COMPLIANCE',
      days: 124,
    });
    const table = await run(['--offline', '--format', 'table']);
    expect(table.stdout).toContain(
      'EXPOSURE: vault in the production account: not protected against a compromised production account',
    );
  });
});
