// Test support: the IAM front layer (local/iam/front.ts) as a test sees it.
// Every request of the suite is authorized there against the deployed
// policies; test/setup.ts fails a test whose requests were refused unless the
// test declared the refusal here. A test can ask what its requests were
// authorized on (which principal, which IAM actions), expect a refusal by the
// deployed policies, or withhold one grant from its requests to see how the
// code behaves for a role without it: the refusal then comes from the layer,
// in the service's own AccessDenied shape, as AWS would answer it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestRecord } from '../../local/iam/front.ts';
import { callControl, operatorCredentials } from '../../local/iam/principals.ts';

const mark = async () => (await callControl<{ seq: number }>('mark', {})).seq;

/** `act`, which the deployed policies must refuse; the refusal is declared and returned. */
export async function expectRefused(act: () => Promise<unknown>): Promise<Error> {
  const seq = await mark();
  const outcome = await act().then(
    () => undefined,
    (e: Error) => e,
  );
  const declared = await callControl<unknown[]>('expect', { since: seq });
  if (!outcome) throw new Error('expected the deployed policies to refuse the request, but it succeeded');
  if (declared.length === 0)
    throw new Error(`the request failed without a refusal by the policies: ${outcome.message}`);
  return outcome;
}

/**
 * `act` run as if its roles lacked `actions` (IAM names, e.g.
 * `rds:DescribeAccountAttributes`): the front layer refuses any request that
 * needs one of them; those refusals are declared. Returns what `act` returned
 * or threw, for the test to assert on.
 */
export async function withoutGrant<T>(
  actions: string | string[],
  act: () => Promise<T>,
): Promise<{ result?: T; error?: Error; refused: RequestRecord[] }> {
  await callControl('withhold', { actions: [actions].flat() });
  const seq = await mark();
  try {
    const result = await act();
    return { result, refused: await callControl<RequestRecord[]>('expect', { since: seq }) };
  } catch (e) {
    return { error: e as Error, refused: await callControl<RequestRecord[]>('expect', { since: seq }) };
  } finally {
    await callControl('withhold', { actions: [] });
  }
}

/** What `act` returned, and each request it made as the front layer authorized it, in order. */
export async function requestsOf<T>(
  act: () => Promise<T>,
): Promise<{ result: T; requests: RequestRecord[] }> {
  const seq = await mark();
  const result = await act();
  return { result, requests: await callControl<RequestRecord[]>(`requests?since=${seq}`, {}) };
}

/** The IAM actions a principal (a role's logical id, e.g. RdsSnapshotRole) was allowed in these requests. */
export function allowedActions(requests: RequestRecord[], principal: string): Set<string> {
  return new Set(
    requests
      .filter((r) => r.principal === principal)
      .flatMap((r) => r.needs.filter((n) => n.allowed).map((n) => n.action)),
  );
}

/**
 * A shared credentials file of the test's own with one profile: the account's
 * administrator, as an operator's `kura-isolated` profile holds it. Give the
 * CLI `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` from it.
 */
export async function operatorProfileEnv(
  account: string,
  profile = 'kura-isolated',
): Promise<Record<string, string>> {
  const c = await operatorCredentials(account);
  const dir = mkdtempSync(join(tmpdir(), 'kura-profile-'));
  const file = join(dir, 'credentials');
  writeFileSync(
    file,
    `[${profile}]\naws_access_key_id = ${c.accessKeyId}\naws_secret_access_key = ${c.secretAccessKey}\n${c.sessionToken ? `aws_session_token = ${c.sessionToken}\n` : ''}`,
  );
  return { AWS_SHARED_CREDENTIALS_FILE: file, AWS_CONFIG_FILE: join(dir, 'config') };
}
