// Local runtime: executes a statemachines/<name>.asl.yml definition with
// aws-local-stepfunctions. The same file is deployed unchanged: Lambda tasks
// (Resource: Fn::GetAtt <Fn>LambdaFunction.Arn) are routed to the in-process
// handlers from functions/registry.ts, service integrations to local
// implementations over the same SDK clients, and Wait states and retries are
// taken on the deps' Timer: a Wait state waits there for the time it would
// wait on AWS (Seconds, SecondsPath, Timestamp, TimestampPath), a retry for its
// retrier's interval. On the simulated clock of local runs (local/
// simulated-time.ts) that moves simulated time at once, so an execution sees
// restored resources become available as it would on AWS, in milliseconds.
import './promise-polyfill.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { parse } from 'yaml';
import { lambdaLogicalId } from '../deploy/logical-ids.ts';
import { FUNCTIONS } from '../functions/registry.ts';
import type { Deps } from '../shared/aws/deps.ts';
import { InputError } from '../shared/runtime/errors.ts';
import type { Timer } from '../shared/runtime/timer.ts';
import { asFunction, asStateMachine, serviceInvokes } from './iam/principals.ts';

export type LocalTask = (input: unknown, deps: Deps) => Promise<unknown>;

interface AslState {
  Type: string;
  Resource?: unknown;
  Iterator?: { States: Record<string, AslState> };
  ItemProcessor?: { States: Record<string, AslState> };
  Branches?: { States: Record<string, AslState> }[];
  [k: string]: unknown;
}
interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [k: string]: unknown;
}

export interface StepEvent {
  type: string;
  state?: string;
  index?: number;
  error?: string;
  cause?: string;
}

export interface RunOptions {
  deps: Deps;
  /** Replace tasks by state name (tests inject failures this way). */
  taskOverrides?: Record<string, LocalTask>;
  /** Service integrations other than Lambda, by resource ARN. */
  integrations?: Record<string, LocalTask>;
  onEvent?: (e: StepEvent) => void;
  /**
   * Run each Lambda task as its function's role and the service integrations
   * as the state machine's role (through the IAM front layer, when
   * KURA_IAM_CONTROL names one). Default true; false keeps `deps` as given.
   */
  principals?: boolean;
}

export interface RunOutcome {
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: string;
  cause?: string;
  visited: string[];
}

const FUNCTION_BY_LOGICAL_ID = new Map(Object.keys(FUNCTIONS).map((f) => [lambdaLogicalId(f), f]));

export function definitionPath(name: string): string {
  return fileURLToPath(new URL(`../statemachines/${name}.asl.yml`, import.meta.url));
}

export function loadDefinition(name: string): AslDefinition {
  let text: string;
  try {
    text = readFileSync(definitionPath(name), 'utf8');
  } catch {
    throw new InputError([`state machine "${name}" not found; expected statemachines/${name}.asl.yml`]);
  }
  return parse(text) as AslDefinition;
}

const builtInIntegrations: Record<string, LocalTask> = {
  'arn:aws:states:::sns:publish': async (input, deps) => {
    const p = input as { TopicArn: string; Message: string; Subject?: string };
    return deps.clients
      .get(SNSClient)
      .send(new PublishCommand({ TopicArn: p.TopicArn, Message: p.Message, Subject: p.Subject }));
  },
};

/**
 * Rewrites the definition for local execution: every Task gets a string ARN
 * and a handler by state name; every Wait state a short override.
 */
function prepare(def: AslDefinition, opts: RunOptions, machine: string) {
  const principals = opts.principals !== false;
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const retries: Record<string, number> = {};
  const integrations = { ...builtInIntegrations, ...opts.integrations };
  const walk = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      if (Array.isArray(state.Retry)) retries[name] = 0;
      if (state.Type === 'Wait') {
        // Waits on the Timer: a local task that passes its input on, as a Wait does.
        const timer = opts.deps.clients.timer;
        const wait = { ...state };
        for (const k of ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath']) delete state[k];
        state.Type = 'Task';
        state.Resource = 'arn:aws:lambda:ap-northeast-1:123456789012:function:kura-local-wait';
        handlers[name] = async (input) => {
          await timer.sleep(waitSeconds(name, wait, input, timer.now()) * 1000);
          return input;
        };
        continue;
      }
      if (state.Iterator) walk(state.Iterator.States);
      if (state.ItemProcessor) walk(state.ItemProcessor.States);
      for (const b of state.Branches ?? []) walk(b.States);
      if (state.Type !== 'Task') continue;
      const res = state.Resource;
      let task: LocalTask | undefined = opts.taskOverrides?.[name];
      const lambdaOf = (r: unknown) =>
        r && typeof r === 'object' && 'Fn::GetAtt' in r
          ? FUNCTION_BY_LOGICAL_ID.get((r as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0])
          : undefined;
      const overridden = lambdaOf(res);
      if (task && overridden && principals) {
        // A test's stand-in for a function's code still runs as that function.
        const override = task;
        task = async (input, deps) => override(input, await asFunction(overridden, deps));
      }
      if (!task && res && typeof res === 'object' && 'Fn::GetAtt' in res) {
        const [logicalId] = (res as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
        const fn = FUNCTION_BY_LOGICAL_ID.get(logicalId);
        if (!fn) throw new InputError([`state "${name}": no local function for ${logicalId}`]);
        const loader = FUNCTIONS[fn] as () => Promise<LocalTask>;
        task = async (input, deps) => {
          if (!principals) return (await loader())(input, deps);
          // Step Functions invokes the function with the machine's role; the function runs as its own.
          await serviceInvokes('state-machine', machine, fn, deps.policy);
          return (await loader())(input, await asFunction(fn, deps));
        };
        state.Resource = `arn:aws:lambda:ap-northeast-1:123456789012:function:kura-${fn}`;
      } else if (!task && typeof res === 'string') {
        const integration = integrations[res.replace(/\.sync$|\.waitForTaskToken$/, '')];
        task =
          integration && principals
            ? async (input, deps) => integration(input, await asStateMachine(machine, deps))
            : integration;
      }
      if (!task)
        throw new InputError([
          `state "${name}": resource ${JSON.stringify(res)} has no local implementation`,
        ]);
      if (typeof state.Resource !== 'string')
        state.Resource = 'arn:aws:lambda:ap-northeast-1:123456789012:function:kura-local';
      const bound = task;
      const retry = Array.isArray(state.Retry) ? (state.Retry as Retrier[]) : [];
      handlers[name] = retryOnTimer(retry, opts.deps.clients.timer, (input) => bound(input, opts.deps));
    }
  };
  walk(def.States);
  return { handlers, retries };
}

/** A JSONPath of the `$.a.b` form (what kura's definitions use for waits) applied to `input`. */
function pathValue(path: string, input: unknown): unknown {
  if (!/^\$(\.[A-Za-z0-9_]+)*$/.test(path))
    throw new InputError([`JSONPath ${path}: the local runner resolves only $.a.b paths in Wait states`]);
  return path
    .split('.')
    .slice(1)
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      input,
    );
}

/** How long a Wait state waits on AWS for this input (Amazon States Language, "Wait"). */
function waitSeconds(name: string, state: AslState, input: unknown, now: number): number {
  let seconds: unknown = state.Seconds;
  if (typeof state.SecondsPath === 'string') seconds = pathValue(state.SecondsPath, input);
  let timestamp: unknown = state.Timestamp;
  if (typeof state.TimestampPath === 'string') timestamp = pathValue(state.TimestampPath, input);
  if (timestamp !== undefined) return Math.max(0, (Date.parse(String(timestamp)) - now) / 1000);
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0)
    throw new InputError([
      `Wait state "${name}": found ${JSON.stringify(seconds)} seconds; expected 0 or more`,
    ]);
  return seconds;
}

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
}

/**
 * Waits on the Timer for the interval AWS would wait before a retry of this
 * task (the matching retrier's IntervalSeconds × BackoffRate^attempt, at its
 * upper bound when jittered); the interpreter then retries at once.
 */
function retryOnTimer(
  retriers: Retrier[],
  timer: Timer,
  run: (input: unknown) => Promise<unknown>,
): (input: unknown) => Promise<unknown> {
  const attempts = new Map<string, number[]>();
  return async (input) => {
    const key = JSON.stringify(input);
    try {
      const out = await run(input);
      attempts.delete(key);
      return out;
    } catch (err) {
      const error = (err as Error).name;
      const i = retriers.findIndex((r) =>
        r.ErrorEquals.some((e) => e === error || e === 'States.ALL' || e === 'States.TaskFailed'),
      );
      const r = retriers[i];
      if (r) {
        const counts = attempts.get(key) ?? retriers.map(() => 0);
        const n = counts[i] ?? 0;
        if (n < (r.MaxAttempts ?? 3)) {
          const interval = (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** n;
          counts[i] = n + 1;
          attempts.set(key, counts);
          await timer.sleep(Math.min(interval, r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) * 1000);
        } else attempts.delete(key);
      }
      throw err;
    }
  };
}

/**
 * Step Functions' context object on the Timer: aws-local-stepfunctions sets
 * `$$.Execution.StartTime` from the wall clock, while an execution on the
 * simulated clock starts at that clock's time. Every parameter that reads it
 * gets the Timer's start time instead, as a literal (the same on every retry,
 * as on AWS).
 */
function startTimeOnTimer(node: unknown, startTime: string): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) startTimeOnTimer(n, startTime);
    return;
  }
  const o = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (k.endsWith('.$') && v === '$$.Execution.StartTime') {
      delete o[k];
      o[k.slice(0, -2)] = startTime;
    } else startTimeOnTimer(v, startTime);
  }
}

export async function runStateMachine(name: string, input: unknown, opts: RunOptions): Promise<RunOutcome> {
  const def = structuredClone(loadDefinition(name));
  startTimeOnTimer(def.States, new Date(opts.deps.clients.timer.now()).toISOString());
  const { handlers, retries } = prepare(def, opts, name);
  const { StateMachine } = await import('aws-local-stepfunctions');
  const sm = new StateMachine(def as never, { validationOptions: { checkPaths: false, checkArn: false } });
  const execution = sm.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      retryIntervalOverrides: retries,
    },
  });
  const visited: string[] = [];
  const logs = (async () => {
    for await (const ev of execution.eventLogs) {
      const e = ev as unknown as {
        type: string;
        state?: { name: string };
        index?: number;
        Error?: string;
        Cause?: string;
      };
      if (e.type === 'StateEntered' && e.state) visited.push(e.state.name);
      opts.onEvent?.({ type: e.type, state: e.state?.name, index: e.index, error: e.Error, cause: e.Cause });
    }
  })();
  try {
    const output = await execution.result;
    await logs;
    return { status: 'SUCCEEDED', output, visited };
  } catch (err) {
    await logs.catch(() => {});
    const e = err as Error & { cause?: unknown };
    return { status: 'FAILED', error: e.name, cause: e.message, visited };
  }
}
