// AWS adapter: the one place clients for source accounts are made. For each
// source account and region of the policy, Clients acting as that account's
// kura-source role (STS AssumeRole with its ExternalId, from kura's own
// function role), made once per (account, region) and kept with the Clients
// they derive from (one set per Lambda container or command). Single-account
// mode: one target, kura's own account in the policy's region, with kura's
// own clients, exactly as before sources existed.
import type { Policy } from '../policy/schema.ts';
import { owningAccount, sourceAccounts } from '../policy/sources.ts';
import type { SourceTarget } from '../domain/source-target.ts';
import type { Clients } from './clients.ts';

export { type SourceTarget, targetLabel } from '../domain/source-target.ts';

export interface SourceClientsPort {
  /** Every account and region the policy pulls databases and instances from, in policy order. */
  readonly targets: SourceTarget[];
  /** Clients acting in `target` (its region is their default region). */
  clientsFor(target: SourceTarget): Clients;
}

const made = new WeakMap<Clients, Map<string, Clients>>();

export function sourceClients(base: Clients, policy: Policy): SourceClientsPort {
  const sources = sourceAccounts(policy);
  const targets: SourceTarget[] = sources.length
    ? sources.flatMap((s) => s.regions.map((region) => ({ account: s.accountId, region })))
    : [{ region: policy.region }];
  let byTarget = made.get(base);
  if (!byTarget) {
    byTarget = new Map();
    made.set(base, byTarget);
  }
  const cache = byTarget;
  return {
    targets,
    clientsFor(t) {
      if (!t.account) return base;
      const source = sources.find((s) => s.accountId === t.account);
      if (!source) throw new Error(`account ${t.account} is not a source of the policy`);
      const key = `${source.roleArn}/${source.externalId}/${t.region}`;
      let c = cache.get(key);
      if (!c) {
        c = base.assumingRole(source.roleArn, {
          externalId: source.externalId,
          region: t.region,
          sessionName: 'kura-source',
        });
        cache.set(key, c);
      }
      return c;
    },
  };
}

/**
 * Clients acting as the source account that owns a bucket the policy names (a
 * content source, the log landing: its `account`, else the only source),
 * through its kura-source role, in the policy's region (the vault's: a copy
 * is sent to its destination's region); kura's own clients in single-account
 * mode. The source role reads what its account owns and adds the copies to
 * the vault under its own prefixes (deploy/source-account.yml): a bucket
 * policy of the source account need not admit the backup account.
 */
export function ownerClients(base: Clients, policy: Policy, named: { account?: string }): Clients {
  const owner = owningAccount(policy, named);
  return owner
    ? sourceClients(base, policy).clientsFor({ account: owner.accountId, region: policy.region })
    : base;
}
