// Integration: the IAM front layer answers as AWS would. A request outside a
// role's policies is refused in the service's own error shape, naming the
// principal, the action, the resource and the statement that decided (or that
// none allowed it); resource policies (the vault's bucket policy, key
// policies, trust policies with their ExternalId) take part; an SDK command
// with no IAM mapping is refused with its name, never let through.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetBucketAclCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { RequestRecord } from '../../local/iam/front.ts';
import { asFunction } from '../../local/iam/principals.ts';
import { ensureVault } from '../../local/vault.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { expectRefused } from '../support/iam.ts';

let policy: Policy;
let admin: Deps;
const other = `kura-not-a-source-${uniqueSuffix()}`;

beforeAll(async () => {
  const clients = emulatorClients();
  const sfx = uniqueSuffix();
  policy = testPolicy((p) => {
    p.vault.bucket = `kura-vault-iam-${sfx}`;
    p.vault.kmsKeyAlias = `alias/kura-vault-iam-${sfx}`;
    p.content = [{ name: 'app', source: `s3://kura-src-iam-${sfx}/images/`, generations: 7 }];
  });
  admin = { policy, clients };
  await ensureVault(clients, policy);
  await clients.get(S3Client).send(
    new (await import('@aws-sdk/client-s3')).CreateBucketCommand({
      Bucket: other,
      CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-1' },
    }),
  );
  await clients.get(S3Client).send(new PutObjectCommand({ Bucket: other, Key: 'secret.txt', Body: 'x' }));
});

function journal(): RequestRecord[] {
  return readFileSync(join(inject('iamRunDir'), 'requests.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"seq"'))
    .map((l) => JSON.parse(l) as RequestRecord);
}

describe('the IAM front layer', () => {
  it('refuses a role a read its policy does not grant, naming principal, action, resource and that no statement allowed it', async () => {
    // Prepare
    const content = await asFunction('content-backup', admin);

    // Act
    const err = await expectRefused(() =>
      content.clients.get(S3Client).send(new GetObjectCommand({ Bucket: other, Key: 'secret.txt' })),
    );

    // Assess: S3's own error, with the evaluation in its message
    expect(err.name).toBe('AccessDenied');
    expect(err.message).toMatch(
      new RegExp(
        `ContentBackupRole \\(arn:aws:iam::123456789012:role/kura-prod-content-backup\\) is not authorized: s3:GetObject needs s3:GetObject on arn:aws:s3:::${other}/secret.txt: no statement allowed it`,
      ),
    );
    const rec = journal().find(
      (r) => r.denied && r.needs.some((n) => n.resource === `arn:aws:s3:::${other}/secret.txt`),
    );
    expect(rec?.principal).toBe('ContentBackupRole');
    expect(rec?.operation).toBe('s3:GetObject');
  });

  it("writes into the vault with the vault key through S3, allowed by the role's statement and the key policy", async () => {
    // Prepare
    const content = await asFunction('content-backup', admin);
    const key = `content/app/${uniqueSuffix()}.txt`;

    // Act
    await content.clients
      .get(S3Client)
      .send(new PutObjectCommand({ Bucket: policy.vault.bucket, Key: key, Body: 'x' }));

    // Assess: PutObject on the object, and kms:GenerateDataKey on the vault key via S3
    const rec = journal().find(
      (r) => r.operation === 's3:PutObject' && r.needs.some((n) => n.resource.endsWith(key)),
    );
    expect(rec?.denied).toBe(false);
    expect(rec?.needs.map((n) => [n.action, n.deciding.join(' ')])).toEqual([
      ['s3:PutObject', 'ContentBackupRole/content-backup#WriteVault'],
      [
        'kms:GenerateDataKey',
        expect.stringMatching(
          /ContentBackupRole\/content-backup#VaultKey .*VaultKey key policy#AccountAdministers/,
        ),
      ],
    ]);
  });

  it("refuses the isolated account's role the vault: the bucket policy's deny decides", async () => {
    // Prepare: the validation function's session in the isolated account
    const validation = await asFunction('validation-step', admin);
    const iso = policy.isolatedAccount;
    if (!iso) throw new Error('no isolated account');
    const isolated = await validation.clients.assumeRole(iso.roleArn, { externalId: iso.externalId });

    // Act
    const err = await expectRefused(() =>
      isolated.get(S3Client).send(new GetObjectCommand({ Bucket: policy.vault.bucket, Key: 'content/x' })),
    );

    // Assess
    expect(err.message).toMatch(
      /kura-restore \(isolated\).*s3:GetObject on arn:aws:s3:::kura-vault-iam-\w+\/content\/x: denied explicitly by VaultBucketPolicy#DenyDataToAllButAdministratorsAndKura/,
    );
  });

  it('refuses an AssumeRole of the isolated role with the wrong ExternalId, and any from a role it does not trust', async () => {
    const iso = policy.isolatedAccount;
    if (!iso) throw new Error('no isolated account');
    const restore = await asFunction('restore', admin);
    const wrong = await expectRefused(() =>
      restore.clients.assumeRole(iso.roleArn, { externalId: 'guessed' }),
    );
    expect(wrong.message).toMatch(
      /RestoreRole .*sts:AssumeRole on arn:aws:iam::\d{12}:role\/kura-restore: no statement allowed it .*RestoreRole trust policy/,
    );
    const rds = await asFunction('rds-snapshot', admin);
    const untrusted = await expectRefused(() =>
      rds.clients.assumeRole(iso.roleArn, { externalId: iso.externalId }),
    );
    expect(untrusted.message).toMatch(/RdsSnapshotRole .*sts:AssumeRole .*no statement allowed it/);
  });

  it('refuses an SDK command that has no IAM mapping, by name', async () => {
    const err = await expectRefused(() =>
      admin.clients.get(S3Client).send(new GetBucketAclCommand({ Bucket: policy.vault.bucket })),
    );
    expect(err.message).toMatch(
      /no IAM mapping for s3:GetAcl \(GET \/kura-vault-iam-\w+\/\); add its line to local\/iam\/actions\.ts/,
    );
  });
});
