// Local runtime: credentials for the principals AWS would use, from the IAM
// front layer's control endpoint (KURA_IAM_CONTROL names it; absent, nothing
// changes and requests carry the caller's own credentials). A function runs
// as its role (assumed by Lambda), a state machine's service integrations as
// the state machine's role, Scheduler as Scheduler's role.
import type { Clients } from '../../shared/aws/clients.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import type { Deps } from '../../shared/aws/deps.ts';

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
/** Per caller's Clients (its endpoint, middleware and timer: a fault proxy, a simulated clock), by credentials and region. */
const derived = new WeakMap<Clients, Map<string, Clients>>();

/** `like` acting with `creds`: the same endpoint, middleware and timer, made once per caller. */
function clientsWith(like: Clients, creds: Creds, label: string, region = like.region): Clients {
  let byKey = derived.get(like);
  if (!byKey) {
    byKey = new Map();
    derived.set(like, byKey);
  }
  const k = `${creds.accessKeyId}/${region}`;
  let c = byKey.get(k);
  if (!c) {
    c = like.withCredentials(creds, label, region);
    byKey.set(k, c);
  }
  return c;
}

/**
 * Clients acting as `name` of `kind` under `policy`'s deployment, like `like`
 * in everything else (endpoint, middleware, timer: a fault proxy in front of
 * the layer stays in front, a simulated clock keeps its time). Credentials are
 * asked for once per process.
 */
export async function clientsAs(
  kind: PrincipalKind,
  name: string,
  policy: Policy,
  like: Clients,
): Promise<Clients> {
  const key = `${kind}/${name}/${JSON.stringify(policy)}`;
  let s = sessions.get(key);
  if (!s) {
    s = callControl<Creds>('session', { kind, name, policy });
    s.catch(() => sessions.delete(key));
    sessions.set(key, s);
  }
  return clientsWith(like, await s, `${kind}:${name}`);
}

/** Deps for a function's run: its policy, clients acting as its role. Without a front layer: `deps` unchanged. */
export async function asFunction(fn: string, deps: Deps): Promise<Deps> {
  if (!controlEndpoint()) return deps;
  return { ...deps, clients: await clientsAs('function', fn, deps.policy, deps.clients) };
}

/** Deps for a state machine's own service integrations (its role). */
export async function asStateMachine(name: string, deps: Deps): Promise<Deps> {
  if (!controlEndpoint()) return deps;
  return { ...deps, clients: await clientsAs('state-machine', name, deps.policy, deps.clients) };
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

/** Clients of an account's administrator (the operator), like `like` otherwise, e.g. to look into the isolated account. */
/** The credentials of an account's administrator (what an operator's profile for that account holds). */
export async function operatorCredentials(account: string): Promise<Creds> {
  return callControl<Creds>('session', { kind: 'operator', account });
}

export async function operatorClients(
  account: string,
  like: Clients,
  region = like.region,
): Promise<Clients> {
  const creds = await operatorCredentials(account);
  return clientsWith(like, creds, `${account} administrator`, region);
}
