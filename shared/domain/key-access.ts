// Domain: what a KMS key's policy lets another account do with what it
// encrypts. A snapshot shared with an account is of no use to it unless the
// key policy of the snapshot's key names that account (or everyone). Pure.

export interface KeyInfo {
  arn: string;
  manager: 'AWS' | 'CUSTOMER';
  /** Account ids (or "*") the key policy names as principals. */
  principalsAllowed: string[];
}

export function keyAllowsAccount(key: KeyInfo, accountId: string): boolean {
  return key.principalsAllowed.includes('*') || key.principalsAllowed.includes(accountId);
}
