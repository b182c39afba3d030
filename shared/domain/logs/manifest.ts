// Domain (logs): the manifest of a monthly bundle. It lists every member's
// name, size and SHA-256 and the bundle's own size and SHA-256. It is written
// only after the bundle was read back and matched it, so its presence is the
// commit marker: a bundle without a manifest is an unfinished attempt that a
// re-run overwrites, and loose files named in a manifest are already safe in
// a verified bundle and may go. Pure.
import * as z from 'zod/mini';

const hex64 = z.string().check(z.regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256'));

export const manifestMemberSchema = z.strictObject({
  /** Tar member name: `<yyyy-mm-dd>/<file>`. */
  name: z.string(),
  size: z.int().check(z.nonnegative()),
  sha256: hex64,
  /** The loose vault object it came from. */
  sourceKey: z.string(),
  sourceVersionId: z.optional(z.string()),
  sourceEtag: z.optional(z.string()),
});

export const manifestSchema = z.strictObject({
  kind: z.literal('kura-log-bundle'),
  version: z.literal(1),
  logClass: z.string(),
  host: z.string(),
  month: z.string(),
  part: z.int().check(z.positive()),
  bundle: z.strictObject({
    key: z.string(),
    size: z.int(),
    sha256: hex64,
    versionId: z.optional(z.string()),
  }),
  /** Scheduled time of the bundling run (ISO). */
  createdAt: z.string(),
  createdBy: z.string(),
  /** When the read-back verification passed (ISO, wall clock). */
  verifiedAt: z.string(),
  members: z.array(manifestMemberSchema),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestMember = z.infer<typeof manifestMemberSchema>;

export function parseManifest(json: string, where: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new Error(`${where}: manifest is not JSON (${(err as Error).message})`);
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(
      `${where}: not a kura log bundle manifest: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return r.data;
}

/** A member as read back from a bundle. */
export interface ReadMember {
  name: string;
  size: number;
  sha256: string;
}

/** Every difference between what a bundle holds and what its manifest says; empty when they match. */
export function compareWithManifest(
  expected: Pick<ManifestMember, 'name' | 'size' | 'sha256'>[],
  read: ReadMember[],
  bundle?: { expected: { size: number; sha256: string }; read: { size: number; sha256: string } },
): string[] {
  const problems: string[] = [];
  if (bundle) {
    if (bundle.read.size !== bundle.expected.size)
      problems.push(`bundle size ${bundle.read.size}, manifest says ${bundle.expected.size}`);
    if (bundle.read.sha256 !== bundle.expected.sha256)
      problems.push(`bundle SHA-256 ${bundle.read.sha256}, manifest says ${bundle.expected.sha256}`);
  }
  const byName = new Map(read.map((m) => [m.name, m]));
  if (byName.size !== read.length) problems.push('the bundle holds a member name twice');
  for (const e of expected) {
    const r = byName.get(e.name);
    if (!r) problems.push(`member ${e.name} is missing`);
    else if (r.size !== e.size) problems.push(`member ${e.name}: ${r.size} bytes, manifest says ${e.size}`);
    else if (r.sha256 !== e.sha256)
      problems.push(`member ${e.name}: SHA-256 ${r.sha256}, manifest says ${e.sha256}`);
  }
  const names = new Set(expected.map((e) => e.name));
  for (const r of read) if (!names.has(r.name)) problems.push(`member ${r.name} is not in the manifest`);
  return problems;
}

/** The first 64 hex characters of a base64 SHA-256 (S3's x-amz-checksum-sha256), or undefined. */
export function base64ToHex(b64: string | undefined): string | undefined {
  if (!b64 || b64.includes('-')) return undefined; // "-N": a composite multipart checksum, not the object's SHA-256
  const hex = Buffer.from(b64, 'base64').toString('hex');
  return hex.length === 64 ? hex : undefined;
}

export function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}
