// Restore: what a restore's recorded resources are now, read live from the
// account each lives in (the isolated account through its role, the source
// account with kura's own credentials). `restore status` and `restore
// cleanup` show this, never the record alone.
import { describeAwsError, isAwsError } from '../runtime/aws-errors.ts';
import { connectIsolated, IsolatedAccessError } from './isolated-network.ts';
import type { LeftoversPort } from '../aws/isolated-leftovers.ts';
import type { CreatedResource, IsolatedTarget } from './types.ts';
import type { Deps } from '../aws/deps.ts';

export interface LiveResource extends CreatedResource {
  /** undefined: kura cannot tell for this type (e.g. a snapshot share). */
  exists?: boolean;
  error?: string;
}

export async function liveState(
  deps: Deps,
  resources: CreatedResource[],
  leftovers: Pick<LeftoversPort, 'stillExists'>,
  isolated?: IsolatedTarget,
): Promise<{ resources: LiveResource[]; isolated?: IsolatedTarget; problem?: string }> {
  let target = isolated;
  let problem: string | undefined;
  const isoAccount = deps.policy.isolatedAccount?.accountId;
  if (!target && resources.some((r) => r.account === isoAccount)) {
    try {
      target = await connectIsolated(deps);
    } catch (err) {
      // The role cannot be assumed: every resource there is unknown, and says why.
      if (!(err instanceof IsolatedAccessError)) throw err;
      problem = err.message;
    }
  }
  const source = await deps.clients.accountId();
  const out: LiveResource[] = [];
  for (const r of resources) {
    const where: IsolatedTarget | undefined =
      r.account === isoAccount
        ? target
        : r.account === source
          ? { clients: deps.clients, accountId: source, region: r.region }
          : undefined;
    if (!where) {
      out.push({ ...r, error: problem ?? `kura has no credentials for account ${r.account}` });
      continue;
    }
    try {
      out.push({ ...r, exists: await leftovers.stillExists(where, r) });
    } catch (err) {
      // A read refused or throttled leaves this one unknown, named; any other error is a fault.
      if (!isAwsError(err, 'accessDenied', 'throttled')) throw err;
      out.push({ ...r, error: describeAwsError(err) });
    }
  }
  return { resources: out, isolated: target, problem };
}

export function existsText(r: LiveResource): string {
  if (r.error) return `unknown (${r.error})`;
  return r.exists === undefined ? 'unknown' : r.exists ? 'yes' : 'gone';
}
