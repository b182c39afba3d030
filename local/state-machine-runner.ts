// Local runtime: executes a statemachines/<name>.asl.yml definition with
// aws-local-stepfunctions. The same file is deployed unchanged: Lambda tasks
// (Resource: Fn::GetAtt <Fn>LambdaFunction.Arn) are routed to the in-process
// handlers from functions/registry.ts, service integrations to local
// implementations over the same SDK clients, and Wait states are shortened.
import './promise-polyfill.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { parse } from 'yaml';
import { lambdaLogicalId } from '../deploy/logical-ids.ts';
import { FUNCTIONS } from '../functions/registry.ts';
import { InputError } from '../shared/runtime/errors.ts';
import type { Deps } from '../shared/runtime/lambda.ts';
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
  waitMs?: number;
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
  const waits: Record<string, number> = {};
  const integrations = { ...builtInIntegrations, ...opts.integrations };
  const walk = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Wait') waits[name] = opts.waitMs ?? 10;
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
      handlers[name] = (input) => bound(input, opts.deps);
    }
  };
  walk(def.States);
  return { handlers, waits };
}

export async function runStateMachine(name: string, input: unknown, opts: RunOptions): Promise<RunOutcome> {
  const def = structuredClone(loadDefinition(name));
  const { handlers, waits } = prepare(def, opts, name);
  const { StateMachine } = await import('aws-local-stepfunctions');
  const sm = new StateMachine(def as never, { validationOptions: { checkPaths: false, checkArn: false } });
  const execution = sm.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides: waits },
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
