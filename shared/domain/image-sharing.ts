// Domain (image class): can an encrypted machine image be shared with another
// account? Decided from facts about the KMS keys of its volumes, before any
// launch permission is granted. Pure.

export interface KeyFacts {
  /** The key id as the volume or snapshot names it. */
  keyId: string;
  arn: string;
  manager: 'AWS' | 'CUSTOMER';
  /** Account ids (or "*") the key policy allows. */
  principalsAllowed: string[];
}

/**
 * One message per key that blocks sharing with `accountId`, naming the key.
 * An AWS managed key (alias/aws/ebs) can never be used by another account; a
 * customer-managed key must allow that account in its key policy.
 */
export function sharingBlockers(keys: KeyFacts[], accountId: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k.arn)) continue;
    seen.add(k.arn);
    if (k.manager === 'AWS') {
      out.push(
        `KMS key ${k.arn} is AWS managed (aws/ebs) and cannot be used by account ${accountId}; re-encrypt the volumes with a customer-managed key`,
      );
    } else if (!k.principalsAllowed.includes('*') && !k.principalsAllowed.includes(accountId)) {
      out.push(
        `KMS key ${k.arn} does not allow account ${accountId} in its key policy; add the account (kms:DescribeKey, kms:Decrypt, kms:ReEncrypt*, kms:GenerateDataKeyWithoutPlaintext, kms:CreateGrant for AWS resources: what EBS needs to launch a re-encrypted copy) before sharing`,
      );
    }
  }
  return out;
}
