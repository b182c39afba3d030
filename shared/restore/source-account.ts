// Restore (domain): which source account a named database (or server) is
// restored from when the policy pulls from several. A name may exist in more
// than one source account; the request must then say which (database.account),
// and is refused before anything is touched when it does not. Pure.
import type { Policy } from '../policy/schema.ts';
import { InputError } from '../runtime/errors.ts';

/**
 * The account to restore `name` from, given the accounts whose recovery points
 * (in the backup account, tagged with their source account) carry that name.
 * `requested`: the request's account, if any. Undefined: no source account
 * holds it (single-account mode, or nothing found; the caller says so).
 */
export function sourceAccountOf(
  field: string,
  name: string,
  requested: string | undefined,
  holders: string[],
): string | undefined {
  const found = [...new Set(holders)].sort();
  if (requested !== undefined) {
    if (found.length && !found.includes(requested))
      throw new InputError([
        `request: ${field}: no recovery point of ${name} comes from account ${requested}; expected one of ${found.join(', ')}`,
      ]);
    return requested;
  }
  if (found.length > 1)
    throw new InputError([
      `request: ${field}: ${name} is the name of a database in more than one source account (${found.join(', ')}); expected ${field} naming one of them`,
    ]);
  return found[0];
}

/**
 * Where the database or server a recovery point protects lives, with sources:
 * the source account and region its backup-account copy is tagged with
 * (databases name the account `account`, images `sourceAccount`). Empty in
 * single-account mode.
 */
export interface Origin {
  account?: string;
  sourceRegion?: string;
}

export function originOf(rp: { details?: Record<string, unknown> }): Origin {
  const d = rp.details ?? {};
  const account = typeof d.account === 'string' ? d.account : d.sourceAccount;
  if (typeof account !== 'string' || !account) return {};
  return {
    account,
    ...(typeof d.sourceRegion === 'string' && d.sourceRegion ? { sourceRegion: d.sourceRegion } : {}),
  };
}

/**
 * The key a run plans by: one item per (source account, source region, name).
 * A name alone would merge two source accounts' databases of the same name, or
 * one account's in two regions, into one item.
 */
export function originKey(source: string, o: Origin): string {
  return o.account ? `${o.account}/${o.sourceRegion ?? ''}/${source}` : source;
}

/**
 * An item's origin as a report shows it: a database's or server's from its
 * recovery point; a content source's or the log landing's account from the
 * policy (content[].account, logs.account; their buckets have no region of a
 * source), by the policy's rule (its `account`, else the only source).
 * Empty in single-account mode.
 */
export function itemOrigin(
  policy: Pick<Policy, 'sources' | 'content' | 'logs'>,
  item: { class: string; source: string; recoveryPoint: { details?: Record<string, unknown> } },
): Origin {
  if (!policy.sources?.length) return {};
  const o = originOf(item.recoveryPoint);
  if (o.account) return o;
  const named =
    item.class === 'content'
      ? policy.content.find((c) => c.name === item.source)
      : item.class === 'logs'
        ? policy.logs
        : undefined;
  // The policy's rule: the bucket's `account`, else the only source.
  const account = named
    ? (named.account ?? (policy.sources.length === 1 ? policy.sources[0]?.accountId : undefined))
    : undefined;
  return account ? { account } : {};
}
