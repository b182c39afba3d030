// Local runtime: credentials for the principals AWS would use, from the IAM
// front layer's control endpoint (KURA_IAM_CONTROL names it; absent, nothing
// changes and requests carry the caller's own credentials). A function runs
// as its role (assumed by Lambda), a state machine's service integrations as
// the state machine's role, Scheduler as Scheduler's role.
import { Clients } from '../../shared/aws/clients.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import type { Deps } from '../../shared/runtime/lambda.ts';

/** Paths of the front layer's control endpoint (never an AWS API path). */
export const CONTROL_PREFIX = '/__kura-iam/';

export type PrincipalKind = 'function' | 'state-machine' | 'scheduler' | 'operator';

export function controlEndpoint(): string | undefined {
  return process.env.KURA_IAM_CONTROL || undefined;
}

/** Which vitest worker (or process) makes the requests: denials are reported to it. */
export function workerId(): string {
  return process.env.KURA_IAM_WORKER ?? process.env.VITEST_POOL_ID ?? '0';
}

export async function callControl<T>(
  op: string,
  input: Record<string, unknown>,
  endpoint = controlEndpoint(),
): Promise<T> {
  if (!endpoint) throw new Error('KURA_IAM_CONTROL is not set: no IAM front layer to ask');
  const send = () =>
    fetch(`${endpoint}${CONTROL_PREFIX}${op}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ worker: workerId(), ...input }),
    });
  // A kept-alive connection the layer closed while this process was busy (a blocking
  // child process) fails once; the retry opens a new one.
  const res = await send().catch(send);
  const json = (await res.json()) as T & { message?: string };
  if (!res.ok) {
    const e = new Error(json.message ?? `kura iam control ${op}: HTTP ${res.status}`);
    e.name = 'AccessDenied';
    throw e;
  }
  return json;
}

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const sessions = new Map<string, Promise<Creds>>();
const clients = new Map<string, Clients>();

/**
 * Clients acting as `name` of `kind` under `policy`'s deployment, at the
 * endpoint and region of `like` (a fault proxy in front of the layer stays in
 * front). Credentials are asked for once per process.
 */
export async function clientsAs(
  kind: PrincipalKind,
  name: string,
  policy: Policy,
  like?: Clients,
): Promise<Clients> {
  const key = `${kind}/${name}/${JSON.stringify(policy)}`;
  let s = sessions.get(key);
  if (!s) {
    s = callControl<Creds>('session', { kind, name, policy });
    s.catch(() => sessions.delete(key));
    sessions.set(key, s);
  }
  const creds = await s;
  const region = like?.region ?? policy.region;
  const endpoint = like?.endpoint;
  const ck = `${creds.accessKeyId}/${region}/${endpoint ?? ''}`;
  let c = clients.get(ck);
  if (!c) {
    c = new Clients({ region, endpoint, credentials: creds, label: `${kind}:${name}` });
    clients.set(ck, c);
  }
  return c;
}

/** Deps for a function's run: its policy, clients acting as its role. Without a front layer: `deps` unchanged. */
export async function asFunction(fn: string, deps: Deps): Promise<Deps> {
  if (!controlEndpoint()) return deps;
  return { policy: deps.policy, clients: await clientsAs('function', fn, deps.policy, deps.clients) };
}

/** Deps for a state machine's own service integrations (its role). */
export async function asStateMachine(name: string, deps: Deps): Promise<Deps> {
  if (!controlEndpoint()) return deps;
  return { policy: deps.policy, clients: await clientsAs('state-machine', name, deps.policy, deps.clients) };
}

/** Checks, and records, a call an AWS service makes with a role of the template (Step Functions or Scheduler invoking a function). */
export async function serviceInvokes(
  kind: 'scheduler' | 'state-machine',
  name: string,
  fn: string,
  policy: Policy,
): Promise<void> {
  if (!controlEndpoint()) return;
  await callControl('check', { kind, name, function: fn, action: 'lambda:InvokeFunction', policy });
}

/** Clients of an account's administrator (the operator), e.g. to look into the isolated account. */
export async function operatorClients(account: string, region: string): Promise<Clients> {
  const creds = await callControl<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>(
    'session',
    {
      kind: 'operator',
      account,
    },
  );
  return new Clients({ region, credentials: creds, label: `${account} administrator` });
}
