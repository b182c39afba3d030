// Domain (reports): does the vault bucket, as AWS reports it, still carry the
// protections the policy asks for? Pure: the configuration comes in already
// read (shared/aws/vault-config.ts). Every difference is one finding an
// auditor can act on; nothing is summarised away.
import type { Policy } from '../../policy/schema.ts';

/** The vault's protections as read from S3 and KMS (undefined: not set on the bucket). */
export interface VaultConfig {
  exists: boolean;
  versioning?: string;
  objectLock?: { enabled: boolean; mode?: string; days?: number; years?: number };
  encryption?: {
    algorithm?: string;
    /** KMSMasterKeyID as the bucket holds it: key id, key ARN, alias name or alias ARN. */
    keyId?: string;
    /** That key resolved by KMS DescribeKey; undefined when it could not be resolved. */
    keyArn?: string;
    bucketKey?: boolean;
  };
  /** The key behind policy.vault.kmsKeyAlias, resolved by KMS; undefined when the alias does not resolve. */
  policyKeyArn?: string;
  publicAccessBlock?: Partial<Record<PabFlag, boolean>>;
  /** The bucket policy JSON, undefined when there is none. */
  bucketPolicy?: string;
  /** Reads that failed (access denied, …): reported, never taken as "fine". */
  unreadable: string[];
}

export const PAB_FLAGS = [
  'BlockPublicAcls',
  'IgnorePublicAcls',
  'BlockPublicPolicy',
  'RestrictPublicBuckets',
] as const;
export type PabFlag = (typeof PAB_FLAGS)[number];

export interface DriftCheck {
  /** What is checked, e.g. "Object Lock default retention". */
  check: string;
  expected: string;
  actual: string;
  ok: boolean;
  /** Policy key or requirement the expectation comes from. */
  source: string;
}

interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  NotPrincipal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function statements(json: string | undefined): Statement[] | undefined {
  if (!json) return [];
  try {
    const doc = JSON.parse(json) as { Statement?: Statement | Statement[] };
    const s = doc.Statement ?? [];
    return Array.isArray(s) ? s : [s];
  } catch {
    return undefined;
  }
}

const isEveryone = (p: unknown) =>
  p === '*' || (typeof p === 'object' && p !== null && (p as { AWS?: unknown }).AWS === '*');
const coversAllS3 = (a: Statement['Action']) => {
  const xs = Array.isArray(a) ? a : [a];
  return xs.includes('s3:*') || xs.includes('*');
};
const asList = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)];

/** A Deny to everyone on every S3 action when aws:SecureTransport is false. */
export function hasTlsOnlyDeny(stmts: Statement[]): boolean {
  return stmts.some(
    (s) =>
      s.Effect === 'Deny' &&
      isEveryone(s.Principal) &&
      coversAllS3(s.Action) &&
      asList(s.Condition?.Bool?.['aws:SecureTransport']).includes('false'),
  );
}

/**
 * The administrators-only statement, recognised by its shape rather than its
 * Sid: a Deny to everyone unless the caller's principal ARN is one of a list
 * (ArnNotLike / ArnNotEquals / StringNotLike / StringNotEquals on
 * aws:PrincipalArn). Returns the allowed ARNs, or undefined when absent.
 */
export function administratorsOnly(stmts: Statement[]): string[] | undefined {
  for (const s of stmts) {
    if (s.Effect !== 'Deny' || !isEveryone(s.Principal)) continue;
    for (const op of ['ArnNotLike', 'ArnNotEquals', 'StringNotLike', 'StringNotEquals']) {
      const arns = s.Condition?.[op]?.['aws:PrincipalArn'];
      if (arns !== undefined) return asList(arns);
    }
  }
  return undefined;
}

/**
 * Whether the statement's ARN list admits an administrator of the policy: a
 * role name means role/<name> in the vault's account (any path), an ARN is
 * compared as written (the deployed statement copies it).
 */
export function admits(arns: string[], administrator: string): boolean {
  if (administrator.startsWith('arn:')) return arns.includes(administrator);
  return arns.some(
    (a) => a.startsWith('arn:') && new RegExp(`:role/(.*/)?${escapeRe(administrator)}$`).test(a),
  );
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const show = (v: unknown) => (v === undefined ? 'not set' : String(v));

export function vaultDrift(policy: Policy, c: VaultConfig): DriftCheck[] {
  if (!c.exists) {
    return [
      {
        check: 'vault bucket',
        expected: `bucket ${policy.vault.bucket} exists`,
        actual: 'no such bucket',
        ok: false,
        source: 'vault.bucket',
      },
    ];
  }
  const out: DriftCheck[] = [];
  const add = (check: string, expected: string, actual: string, ok: boolean, source: string) =>
    out.push({ check, expected, actual, ok, source });
  const lock = policy.vault.objectLock;

  add(
    'versioning',
    'Enabled',
    show(c.versioning),
    c.versioning === 'Enabled',
    'Object Lock needs versioning',
  );
  add(
    'Object Lock',
    'Enabled',
    c.objectLock?.enabled ? 'Enabled' : 'not enabled',
    Boolean(c.objectLock?.enabled),
    'vault.objectLock',
  );
  add(
    'Object Lock default mode',
    lock.mode,
    show(c.objectLock?.mode),
    c.objectLock?.mode === lock.mode,
    'vault.objectLock.mode',
  );
  // Retention may be stated in years; compare in days (a year counts 365 for Object Lock).
  const days =
    c.objectLock?.days ?? (c.objectLock?.years !== undefined ? c.objectLock.years * 365 : undefined);
  add(
    'Object Lock default retention (days)',
    String(lock.days),
    show(days),
    days === lock.days,
    'vault.objectLock.days',
  );
  add(
    'default encryption',
    'aws:kms',
    show(c.encryption?.algorithm),
    c.encryption?.algorithm === 'aws:kms',
    'backups are encrypted with a customer-managed key',
  );
  const keyOk =
    c.policyKeyArn !== undefined &&
    c.encryption?.keyArn !== undefined &&
    c.encryption.keyArn === c.policyKeyArn;
  add(
    'encryption key',
    `${policy.vault.kmsKeyAlias}${c.policyKeyArn ? ` (${c.policyKeyArn})` : ' (alias not found)'}`,
    `${show(c.encryption?.keyId)}${c.encryption?.keyArn && c.encryption.keyArn !== c.encryption.keyId ? ` (${c.encryption.keyArn})` : ''}`,
    keyOk,
    'vault.kmsKeyAlias',
  );
  for (const f of PAB_FLAGS) {
    const v = c.publicAccessBlock?.[f];
    add(`public access block: ${f}`, 'true', show(v), v === true, 'backup data is never public');
  }
  const stmts = statements(c.bucketPolicy);
  if (!stmts) {
    add('bucket policy', 'valid JSON', 'unparseable', false, 'only administrators can reach backup data');
  } else {
    add(
      'bucket policy: TLS-only deny',
      'Deny s3:* to * when aws:SecureTransport is false',
      hasTlsOnlyDeny(stmts) ? 'present' : c.bucketPolicy ? 'missing' : 'no bucket policy',
      hasTlsOnlyDeny(stmts),
      'backups travel only over TLS',
    );
    const admins = administratorsOnly(stmts);
    const wanted = policy.vault.administrators;
    const absent = admins ? wanted.filter((w) => !admits(admins, w)) : wanted;
    add(
      'bucket policy: administrators only',
      `Deny * unless aws:PrincipalArn is one of ${wanted.join(', ')} (or kura's roles)`,
      admins
        ? `Deny unless ${admins.join(', ')}${absent.length ? `; not admitted: ${absent.join(', ')}` : ''}`
        : c.bucketPolicy
          ? 'missing'
          : 'no bucket policy',
      admins !== undefined && absent.length === 0,
      'vault.administrators',
    );
  }
  for (const u of c.unreadable) add('readable', 'readable by the auditor', u, false, 'evidence');
  return out;
}
