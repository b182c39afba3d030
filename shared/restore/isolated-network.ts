// Restore: the isolated account's side. Connects to it (AssumeRole with the
// policy's external id) and makes its long-lived infrastructure ready (the
// isolated network, key and bucket of aws/isolated-network.ts), shared by the
// validation and restore machines.

import type { Clients } from '../aws/clients.ts';
import type { Deps } from '../aws/deps.ts';
import { ensureIsolatedNetwork, type IsolatedNetwork } from '../aws/isolated-network.ts';
import { ensureIsolatedBucket, ensureIsolatedKey } from '../aws/isolated-storage.ts';
import { ISOLATED_PROFILE_HINT } from '../domain/operator-commands.ts';
import { InputError, KuraError } from '../runtime/errors.ts';
import type { IsolatedTarget } from './types.ts';

export { ensureIsolatedBucket, ensureIsolatedKey, isolatedBucketName } from '../aws/isolated-storage.ts';
export {
  ensureIsolatedNetwork,
  ISOLATED_KEY_ALIAS,
  type IsolatedNetwork,
  isolationFindings,
  NETWORK_NAME,
  NETWORK_ROLE,
  NetworkNotIsolatedError,
  ROLE_TAG,
} from '../aws/isolated-network.ts';

/** The isolated role cannot be assumed, or answers for another account. Nothing was created. */
export class IsolatedAccessError extends KuraError {
  override name = 'IsolatedAccessError';
}

/**
 * Clients acting in the isolated account, checked: the operator's own
 * credentials for it when given (Deps.isolated), else AssumeRole with the
 * policy's external id; then GetCallerIdentity must name the policy's account.
 * Fails with IsolatedAccessError before anything is created.
 */
export async function connectIsolated(deps: Deps): Promise<IsolatedTarget> {
  const iso = deps.policy.isolatedAccount;
  if (!iso)
    throw new InputError([
      'isolatedAccount: missing from the policy; expected { accountId, roleArn, externalId? }',
    ]);
  const region = iso.region ?? deps.policy.region;
  let clients: Clients;
  let account: string;
  const via = deps.isolated ? `the isolated account's credentials (${deps.isolated.label})` : iso.roleArn;
  try {
    clients =
      deps.isolated ??
      (await deps.clients.assumeRole(iso.roleArn, {
        externalId: iso.externalId,
        region,
        sessionName: 'kura-isolated',
      }));
    account = await clients.accountId();
  } catch (err) {
    const e = err as Error;
    throw new IsolatedAccessError(
      deps.isolated
        ? `cannot use ${via}: ${e.name}: ${e.message}. Nothing was created. Check the profile's credentials.`
        : `cannot assume ${iso.roleArn}${iso.externalId ? ` with external id "${iso.externalId}"` : ''}: ${e.name}: ${e.message}. ` +
            `Nothing was created. Check that the role exists in the isolated account and trusts this account (and the external id); ${ISOLATED_PROFILE_HINT}.`,
    );
  }
  if (account !== iso.accountId) {
    throw new IsolatedAccessError(
      `${via} answered as account ${account}; expected the isolated account ${iso.accountId}. Nothing was created.`,
    );
  }
  return { clients, accountId: account, region };
}

/** The isolated target with its network, key and bucket ready: what restores need. */
export async function prepareIsolatedTarget(
  deps: Deps,
): Promise<IsolatedTarget & { network: IsolatedNetwork; kmsKeyArn: string; bucket: string }> {
  const target = await connectIsolated(deps);
  const network = await ensureIsolatedNetwork(target.clients, target.region);
  const kmsKeyArn = await ensureIsolatedKey(target.clients, target.region);
  const bucket = await ensureIsolatedBucket(target.clients, target.accountId, target.region);
  return { ...target, network, kmsKeyArn, bucket };
}
