// AWS adapter: the Object Lock parameters of a write into the vault. Every
// adapter that writes there (vault objects, content copies, log copies and
// bundles, exports, the first-point ledger) states its key's retention
// explicitly, from the one rule set in domain/vault-retention.ts, counted from
// the write (S3's lifecycle counts from the same moment).
import type { ObjectLockMode } from '@aws-sdk/client-s3';
import { retainUntil, vaultRetention } from '../domain/vault-retention.ts';
import type { Policy } from '../policy/schema.ts';

export interface LockParams {
  ObjectLockMode: ObjectLockMode;
  ObjectLockRetainUntilDate: Date;
}

/** The lock a write of bucket/key states: the vault's retention for the key; none for other buckets. */
export type VaultLock = (bucket: string, key: string) => LockParams | undefined;

export function vaultLock(policy: Policy, clock: () => Date = () => new Date()): VaultLock {
  return (bucket, key) => {
    if (bucket !== policy.vault.bucket) return undefined;
    const r = vaultRetention(policy, key);
    return { ObjectLockMode: r.mode, ObjectLockRetainUntilDate: retainUntil(r, clock()) };
  };
}

/** The parameters to spread into a PutObject, CopyObject or CreateMultipartUpload input. */
export function lockFor(lock: VaultLock | undefined, bucket: string, key: string): Partial<LockParams> {
  return lock?.(bucket, key) ?? {};
}
