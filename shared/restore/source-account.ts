// Restore (domain): which source account a named database (or server) is
// restored from when the policy pulls from several. A name may exist in more
// than one source account; the request must then say which (database.account),
// and is refused before anything is touched when it does not. Pure.
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
