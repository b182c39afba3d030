// Policy: the source accounts kura pulls from (issue 16's topology), as pure
// rules: which account owns a content bucket or the log landing, the regions
// of each source, and the cross-key checks the schema alone cannot state.
// Single-account mode (no `sources`) is today's behaviour: the one source is
// kura's own account, in the policy's region.

/** One source account as kura uses it (regions defaulted). */
export interface SourceAccount {
  accountId: string;
  roleArn: string;
  externalId: string;
  regions: string[];
}

interface SourcesShape {
  region: string;
  sources?: { accountId: string; roleArn: string; externalId: string; regions?: string[] }[];
  content: { name: string; source: string; account?: string }[];
  logs?: { landing: string; account?: string };
  isolatedAccount?: { accountId: string };
  selector: { tagKey: string };
  database?: { enforceBackupRetention: boolean };
}

/** The tag key deploy/source-account.yml's conditions name (a condition key cannot be a parameter). */
export const SOURCE_SELECTOR_TAG_KEY = 'kura:backup';

/** The policy's source accounts with their regions (default: the policy's region); [] in single-account mode. */
export function sourceAccounts(policy: SourcesShape): SourceAccount[] {
  return (policy.sources ?? []).map((s) => ({
    accountId: s.accountId,
    roleArn: s.roleArn,
    externalId: s.externalId,
    regions: s.regions ?? [policy.region],
  }));
}

/**
 * The source account that owns a bucket the policy names (a content source,
 * the log landing): its `account`, else the only source; undefined in
 * single-account mode (kura's own account).
 */
export function owningAccount(policy: SourcesShape, named: { account?: string }): SourceAccount | undefined {
  const all = sourceAccounts(policy);
  if (all.length === 0) return undefined;
  const id = named.account ?? (all.length === 1 ? all[0]?.accountId : undefined);
  const found = all.find((s) => s.accountId === id);
  if (!found)
    throw new Error(
      `no source account ${id ?? '(unnamed)'} in the policy's sources (${all.map((s) => s.accountId).join(', ')})`,
    );
  return found;
}

export interface SourceIssue {
  path: (string | number)[];
  input: unknown;
  message: string;
}

/** Problems across keys (the schema has checked each key's own form); [] when the topology is sound. */
export function sourceProblems(p: SourcesShape): SourceIssue[] {
  const out: SourceIssue[] = [];
  const sources = p.sources ?? [];
  const ids = [...new Set(sources.map((s) => s.accountId))];
  const seen = new Set<string>();
  for (const [i, s] of sources.entries()) {
    if (seen.has(s.accountId))
      out.push({
        path: ['sources', i, 'accountId'],
        input: s.accountId,
        message: `duplicate source account ${s.accountId}; expected each account once (list its regions under one entry)`,
      });
    seen.add(s.accountId);
    if (/^\d{12}$/.test(s.accountId) && !s.roleArn.includes(`::${s.accountId}:`))
      out.push({
        path: ['sources', i, 'roleArn'],
        input: s.roleArn,
        message: `expected a role in the source account ${s.accountId} (its kura-source role, deploy/source-account.yml)`,
      });
    const regions = s.regions ?? [];
    const dup = regions.find((r, j) => regions.indexOf(r) !== j);
    if (dup)
      out.push({
        path: ['sources', i, 'regions'],
        input: regions,
        message: `region ${dup} listed twice; expected each region once`,
      });
    if (p.isolatedAccount && s.accountId === p.isolatedAccount.accountId)
      out.push({
        path: ['sources', i, 'accountId'],
        input: s.accountId,
        message: `the isolated account ${s.accountId} cannot be a source; expected a production account (restores and rehearsals run in the isolated account)`,
      });
  }
  if (sources.length && p.selector.tagKey !== SOURCE_SELECTOR_TAG_KEY)
    out.push({
      path: ['selector', 'tagKey'],
      input: p.selector.tagKey,
      message: `expected ${SOURCE_SELECTOR_TAG_KEY} with sources: the kura-source role may snapshot only resources with that tag (deploy/source-account.yml); selector.tagValue stays yours`,
    });
  if (sources.length && p.database?.enforceBackupRetention)
    out.push({
      path: ['database', 'enforceBackupRetention'],
      input: true,
      message:
        'expected false with sources: the kura-source role changes no setting of a production database; set the automated backup retention in the source account (kura reports a short one)',
    });
  const owner = (what: string, path: (string | number)[], bucket: string, account: string | undefined) => {
    if (sources.length === 0) {
      if (account !== undefined)
        out.push({
          path: [...path, 'account'],
          input: account,
          message: `the policy has no sources (single-account mode: ${what} is in kura's own account); expected no account, or list ${account} under sources`,
        });
      return;
    }
    if (account === undefined) {
      if (sources.length > 1)
        out.push({
          path: [...path, 'account'],
          input: undefined,
          message: `expected the source account that owns ${bucket} (one of ${ids.join(', ')}): required when there is more than one source`,
        });
      return;
    }
    if (!ids.includes(account))
      out.push({
        path: [...path, 'account'],
        input: account,
        message: `expected one of the source accounts ${ids.join(', ')}`,
      });
  };
  for (const [i, c] of p.content.entries()) owner(`content ${c.name}`, ['content', i], c.source, c.account);
  if (p.logs) owner('the log landing', ['logs'], p.logs.landing, p.logs.account);
  return out;
}
