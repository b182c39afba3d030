// Restore: the isolated account's side. Connects to it (AssumeRole with the
// policy's external id) and makes its long-lived infrastructure ready (the
// isolated network, key and bucket: aws/isolated-network.ts and
// aws/isolated-storage.ts, received as a TargetInfraPort), shared by the
// validation and restore machines.

import type { Clients } from '../aws/clients.ts';
import type { Deps } from '../aws/deps.ts';
import type { IsolatedNetwork } from '../aws/isolated-network.ts';
import type { TargetInfraPort } from '../aws/restore-ports.ts';
import { ISOLATED_PROFILE_HINT } from '../domain/operator-commands.ts';
import { InputError, KuraError } from '../runtime/errors.ts';
import type { IsolatedTarget } from './types.ts';

export type { IsolatedNetwork } from '../aws/isolated-network.ts';

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

/** The isolated target as a restore finds it: its key, and its network and bucket when the class needs them. */
export interface PreparedTarget extends IsolatedTarget {
  network?: IsolatedNetwork;
  kmsKeyArn: string;
  bucket?: string;
}

/**
 * The isolated target with what `infra` makes ready: the key always, the
 * network (databases, servers) and the bucket (content, logs) when it can
 * make them. A function that restores one class gets only that class's.
 */
export async function prepareIsolatedTarget(
  deps: Deps,
  infra: Required<TargetInfraPort>,
): Promise<PreparedTarget & Required<Pick<PreparedTarget, 'network' | 'bucket'>>>;
export async function prepareIsolatedTarget(deps: Deps, infra: TargetInfraPort): Promise<PreparedTarget>;
export async function prepareIsolatedTarget(deps: Deps, infra: TargetInfraPort): Promise<PreparedTarget> {
  const { clients, accountId, region } = await connectIsolated(deps);
  const network = await infra.network?.(clients, region);
  const kmsKeyArn = await infra.key(clients, region);
  const bucket = await infra.bucket?.(clients, accountId, region);
  return {
    clients,
    accountId,
    region,
    ...(network ? { network } : {}),
    kmsKeyArn,
    ...(bucket ? { bucket } : {}),
  };
}
