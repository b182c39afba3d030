// Domain: seals, the tamper evidence of kura's records in the vault. Pure.
// A record an auditor or a restore trusts (a content generation's index, a log
// bundle's or archive's manifest, a restore plan, a report) has its SHA-256
// written beside it, at the time kura writes it, into a seal object under
// seals/<record key>/: written with If-None-Match (a seal is never replaced)
// and the record's own COMPLIANCE retention counted from a later moment (so
// it outlives the record's lock). A reader hashes the bytes it read and holds
// them against the seal before it trusts them: a record changed after it was
// sealed (a new version over it, an object put where the lock was not
// enforced) or never sealed is refused with a SealError naming the key and
// both hashes.
//
// Two kinds of records:
//   - written once (manifests, plans): one seal, seals/<key>/000001.json. A
//     second seal is never read, so a later write, even with a seal of its
//     own, cannot pass for the record.
//   - rewritten (reports and decisions a re-run writes again): a chain,
//     seals/<key>/000001.json, 000002.json, …; each seal names the previous
//     one's hash, and the record must match the newest. The chain keeps every
//     earlier seal (locked), so a rewrite by someone else leaves evidence.
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { KuraError } from '../runtime/errors.ts';

export const SEALS_ROOT = 'seals/';
export const SEAL_FORMAT = 'kura-seal/1';

export interface SealRecord {
  format: typeof SEAL_FORMAT;
  /** The sealed record's key in the vault. */
  key: string;
  /** The version the seal was written for ('null' on an unversioned bucket). */
  versionId: string;
  /** SHA-256 of the record's bytes, hex. */
  sha256: string;
  size: number;
  writtenAt: string;
  /** Position in the record's chain (1 for a record written once). */
  seq: number;
  /** The previous seal's SHA-256 of the record (rewritten records), null for the first. */
  previous: string | null;
}

// zod/mini (as the policy schema): the full build adds ~440 KB to every Lambda bundle that
// reads a seal, and installs its English messages for every schema in the process.
const HEX64 = /^[0-9a-f]{64}$/;
const nonEmpty = z.string().check(z.minLength(1));
const sealSchema = z.object({
  format: z.literal(SEAL_FORMAT),
  key: nonEmpty,
  versionId: nonEmpty,
  sha256: z.string().check(z.regex(HEX64, 'expected 64 hex digits')),
  size: z.int().check(z.gte(0, 'expected a whole number ≥ 0')),
  writtenAt: nonEmpty,
  seq: z.int().check(z.positive('expected a positive whole number')),
  previous: z.nullable(z.string().check(z.regex(HEX64, 'expected 64 hex digits'))),
});

/** Records a re-run legitimately writes again. */
const REWRITTEN = [
  // a restore's plan until its progress is recorded, its approval (pending, then decided), its report (each run);
  // a validation or rehearsal run's plan and report (a retried task writes them again)
  /\/(plan\.json|approval\.json|report\.json|report\.md|report\.html)$/,
];

export type SealKind = 'once' | 'chain';

export function sealKind(key: string): SealKind {
  return REWRITTEN.some((r) => r.test(key)) ? 'chain' : 'once';
}

/** Where the seals of `key` live. */
export function sealPrefix(key: string): string {
  return `${SEALS_ROOT}${key}/`;
}

export function sealKey(key: string, seq: number): string {
  return `${sealPrefix(key)}${String(seq).padStart(6, '0')}.json`;
}

/** The record key a seal key belongs to (for retention: a seal is locked as its record's class). */
export function sealedKeyOf(key: string): string | undefined {
  if (!key.startsWith(SEALS_ROOT)) return undefined;
  const m = /^(.*)\/\d{6}\.json$/.exec(key.slice(SEALS_ROOT.length));
  return m?.[1] ?? key.slice(SEALS_ROOT.length);
}

/** The sequence number of a seal key, or undefined for another key. */
export function sealSeq(key: string): number | undefined {
  const m = /\/(\d{6})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

export function sha256Of(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

export function newSeal(
  key: string,
  body: Uint8Array | string,
  opts: { versionId?: string; writtenAt: Date; seq?: number; previous?: string | null },
): SealRecord {
  return {
    format: SEAL_FORMAT,
    key,
    versionId: opts.versionId ?? 'null',
    sha256: sha256Of(body),
    size: typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength,
    writtenAt: opts.writtenAt.toISOString(),
    seq: opts.seq ?? 1,
    previous: opts.previous ?? null,
  };
}

/** The bytes a seal is stored as. */
export function encodeSeal(seal: SealRecord): string {
  return `${JSON.stringify(seal, null, 1)}\n`;
}

/** A stored seal, checked; a malformed or misplaced seal is itself a broken seal. */
export function parseSeal(text: string, sealedKey: string, where: string): SealRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SealError(sealedKey, 'malformed', `${where} is not JSON`);
  }
  const r = sealSchema.safeParse(raw);
  if (!r.success)
    throw new SealError(
      sealedKey,
      'malformed',
      `${where} is not a ${SEAL_FORMAT} seal: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  if (r.data.key !== sealedKey)
    throw new SealError(sealedKey, 'malformed', `${where} seals ${r.data.key}, not ${sealedKey}`);
  return r.data as SealRecord;
}

export type SealProblem = 'mismatch' | 'unsealed' | 'malformed' | 'conflict';

/**
 * A record failed its seal: it changed after kura sealed it, was never sealed,
 * or its seal is broken. Nothing that read it may go on trusting it.
 */
export class SealError extends KuraError {
  override name = 'SealError';
  constructor(
    readonly key: string,
    readonly problem: SealProblem,
    detail: string,
    readonly expected?: string,
    readonly found?: string,
  ) {
    super(`${key}: seal check failed (${problem}): ${detail}`);
  }
}

/** Holds bytes read from `key` against its seal; throws a SealError unless they are what kura sealed. */
export function checkSeal(
  key: string,
  seal: SealRecord | undefined,
  body: Uint8Array | string,
  versionId?: string,
): SealRecord {
  const found = sha256Of(body);
  if (!seal)
    throw new SealError(
      key,
      'unsealed',
      `no seal under ${sealPrefix(key)}: not written by kura's sealing writer (or a run stopped between the record and its seal); found sha256 ${found}${versionId ? ` (version ${versionId})` : ''}`,
      undefined,
      found,
    );
  if (seal.sha256 !== found)
    throw new SealError(
      key,
      'mismatch',
      `expected sha256 ${seal.sha256} (sealed ${seal.writtenAt}, version ${seal.versionId}), found ${found}${versionId ? ` (version ${versionId})` : ''}: the record changed after it was sealed; the sealed version stays in the vault under its lock`,
      seal.sha256,
      found,
    );
  return seal;
}
