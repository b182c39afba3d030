// Restore (domain): what `kura restore export` brings back out of a restore,
// validated before any AWS call. A database dump goes to the vault (under
// exports/<restore id>/); restored images go to a bucket and prefix the
// request names, never overwriting an object already there. Pure.
import * as z from 'zod/mini';
import { formatIssues } from '../policy/parse.ts';
import type { Policy } from '../policy/schema.ts';
import { InputError } from '../runtime/errors.ts';
import { PORT_FORWARD_VIA } from '../domain/operator-commands.ts';

const IDENT = /^[A-Za-z0-9_$]{1,64}$/;
const S3_PREFIX = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/((?:[^\s]*\/)?)$/;

export const exportRequestSchema = z.strictObject({
  restore: z
    .string()
    .check(
      z.regex(
        /^[a-z0-9][a-z0-9-]{2,23}$/,
        'expected a restore id (a-z, 0-9, -) as kura restore list shows it',
      ),
    ),
  reason: z.optional(z.string().check(z.maxLength(1000, 'expected a reason of at most 1000 characters'))),
  database: z.optional(
    z.strictObject({
      instance: z
        .string()
        .check(z.regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'expected an RDS instance id such as shop-db')),
      /** The schema (MySQL database) the tables are in; default: the restored instance's DBName. */
      schema: z.optional(
        z.string().check(z.regex(IDENT, 'expected a schema name (letters, digits, _ and $)')),
      ),
      /** Tables to dump (all tables of the schema when absent). */
      tables: z._default(
        z.array(z.string().check(z.regex(IDENT, 'expected a table name (letters, digits, _ and $)'))),
        [],
      ),
      /** A WHERE condition applied to every table dumped, e.g. "created_at >= '2026-11-22 03:00:00'". */
      where: z.optional(
        z.string().check(
          z.minLength(1, 'expected a condition'),
          z.maxLength(2000, 'expected a condition of at most 2000 characters'),
          z.refine((s) => !s.includes(';'), 'expected one condition, without ";"'),
        ),
      ),
      /** Where the database answers from here: a Session Manager port forward (PORT_FORWARD_VIA: its port alone is this machine). */
      via: z.optional(
        z
          .string()
          .check(
            z.regex(
              /^([A-Za-z0-9.-]+:)?\d{1,5}$/,
              `expected host:port, or the port alone for this machine, such as ${PORT_FORWARD_VIA} (the port forward)`,
            ),
          ),
      ),
    }),
  ),
  content: z._default(
    z.array(
      z.strictObject({
        source: z
          .string()
          .check(z.regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a content source name from the policy')),
        to: z
          .string()
          .check(
            z.regex(S3_PREFIX, 'expected s3://bucket/prefix/ (ending in "/"), where the images go back'),
          ),
      }),
    ),
    [],
  ),
});

export type ExportRequest = z.infer<typeof exportRequestSchema>;

export function parseExportRequest(raw: unknown, policy: Policy): ExportRequest {
  const parsed = exportRequestSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(formatIssues(parsed.error.issues, raw, 'export'));
  const r = parsed.data;
  const problems: string[] = [];
  if (!r.database && r.content.length === 0)
    problems.push(
      'export: nothing to export; expected --database (a dump to the vault) or --content with --to',
    );
  const names = policy.content.map((c) => c.name);
  const isolated = policy.isolatedAccount ? `kura-isolated-${policy.isolatedAccount.accountId}-` : undefined;
  for (const [i, c] of r.content.entries()) {
    if (!names.includes(c.source))
      problems.push(
        `export: content.${i}.source: found "${c.source}"; expected one of ${names.join(', ') || '(none)'}`,
      );
    const bucket = S3_PREFIX.exec(c.to)?.[1] ?? '';
    if (bucket === policy.vault.bucket)
      problems.push(
        `export: content.${i}.to: ${c.to} is the vault; expected the bucket the images go back to`,
      );
    if (isolated && bucket.startsWith(isolated))
      problems.push(
        `export: content.${i}.to: ${c.to} is in the isolated account; expected a bucket outside it`,
      );
  }
  const dup = r.content.map((c) => c.source).filter((s, i, a) => a.indexOf(s) !== i);
  for (const d of new Set(dup)) problems.push(`export: content: "${d}" is listed more than once`);
  if (problems.length) throw new InputError(problems);
  return r;
}

export function parseS3Prefix(url: string): { bucket: string; prefix: string } {
  const m = S3_PREFIX.exec(url);
  return { bucket: m?.[1] ?? '', prefix: m?.[2] ?? '' };
}
