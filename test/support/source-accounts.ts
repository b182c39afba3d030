// Test support: the accounts of issue 16's topology in the emulator. The
// backup account is moto's default (plain credentials); two source accounts,
// one of them in two regions, each reached only through its kura-source role
// (STS AssumeRole with its ExternalId, as on AWS); the isolated account is
// the reference policy's.
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { Clients } from '../../shared/aws/clients.ts';
import type { Policy } from '../../shared/policy/schema.ts';

export const SOURCE_A = '333333333333';
export const SOURCE_B = '444444444444';
/** The second region of source B. */
export const SOURCE_B_SECOND_REGION = 'us-west-2';

export function sourceRoleArn(account: string): string {
  return `arn:aws:iam::${account}:role/kura-source`;
}

/**
 * `p` pulling from the two source accounts: A owns the first content source,
 * B the others and the log landing. The selector's key is the one the source
 * stack's conditions name; its value stays the caller's (a unique value keeps
 * test files apart).
 */
export function withTwoSources(p: Policy, tagValue = p.selector.tagValue): Policy {
  p.selector = { tagKey: 'kura:backup', tagValue };
  p.sources = [
    { accountId: SOURCE_A, roleArn: sourceRoleArn(SOURCE_A), externalId: `kura-src-${SOURCE_A}` },
    {
      accountId: SOURCE_B,
      roleArn: sourceRoleArn(SOURCE_B),
      externalId: `kura-src-${SOURCE_B}`,
      regions: [p.region, SOURCE_B_SECOND_REGION],
    },
  ];
  for (const [i, c] of p.content.entries()) c.account = i === 0 ? SOURCE_A : SOURCE_B;
  if (p.logs) p.logs.account = SOURCE_B;
  if (p.database) p.database.enforceBackupRetention = false;
  return p;
}

/** A customer-managed key whose policy lets `accounts` use it as RDS does for a copy or restore (docs/deploy.md). */
export async function customerKey(
  c: Clients,
  owner: string,
  accounts: string[],
  alias?: string,
): Promise<string> {
  const kms = c.get(KMSClient);
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AccountAdministers',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${owner}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
      ...(accounts.length
        ? [
            {
              Sid: 'OtherAccountsCopyAndRestore',
              Effect: 'Allow',
              Principal: { AWS: accounts.map((x) => `arn:aws:iam::${x}:root`) },
              Action: [
                'kms:DescribeKey',
                'kms:Decrypt',
                'kms:ReEncrypt*',
                'kms:GenerateDataKeyWithoutPlaintext',
                'kms:CreateGrant',
              ],
              Resource: '*',
            },
          ]
        : []),
    ],
  };
  const key = await kms.send(
    new CreateKeyCommand({ Description: 'kura test key', Policy: JSON.stringify(policy) }),
  );
  const arn = key.KeyMetadata?.Arn ?? '';
  if (alias)
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyMetadata?.KeyId }));
  return arn;
}
