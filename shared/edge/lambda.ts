// Edge: the Lambda edge shared by every scheduled function. Reads and
// validates the policy at cold start (fail fast), parses the event, runs the
// use case, publishes the result's metrics, and fails the invocation when any
// target failed so that the schedule's retry and alarm fire.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { Clients } from '../aws/clients.ts';
import type { Deps } from '../aws/deps.ts';
import { parsePolicy } from '../policy/parse.ts';
import type { Policy } from '../policy/schema.ts';
import { InputError, PartialFailureError, PolicyError } from '../runtime/errors.ts';
import { eventTimeProblem, parseScheduledEvent, type ScheduledEvent } from '../runtime/event.ts';
import { logger } from '../runtime/logger.ts';
import type { RunResult } from '../runtime/result.ts';

export type Run<R> = (event: ScheduledEvent, deps: Deps) => Promise<R>;

/** The policy the deployment compiled into the bundle (esbuild `define`, see serverless.yml). */
declare const __KURA_POLICY__: string | undefined;

/**
 * The deployed policy: compiled into the function's code by the packaging
 * (Lambda's 4 KB of environment would not hold a large policy); where no
 * bundle carries one (a local run of the edge), KURA_POLICY_JSON.
 */
export function policyFromEnvironment(): Policy {
  const bundled = typeof __KURA_POLICY__ === 'string' ? __KURA_POLICY__ : undefined;
  const json = bundled ?? process.env.KURA_POLICY_JSON;
  const where = bundled ? 'the bundled policy' : 'KURA_POLICY_JSON';
  if (!json)
    throw new PolicyError([
      'no policy: the packaging compiles it into the function (serverless.yml, custom.esbuild.define); locally set KURA_POLICY_JSON',
    ]);
  return parsePolicy(JSON.parse(json), where);
}

function publish(metrics: Metrics, result: RunResult): void {
  for (const m of result.metrics) {
    const single = metrics.singleMetric();
    for (const [k, v] of Object.entries(m.dimensions ?? {})) single.addDimension(k, v);
    single.addMetric(m.name, MetricUnit[m.unit], m.value);
  }
}

/**
 * Deps made once per container: in Lambda at init (a bad policy fails the
 * init phase, not the first backup), elsewhere on first use.
 */
function coldStartDeps(): () => Deps {
  let deps: Deps | undefined;
  const init = (): Deps => {
    const policy = policyFromEnvironment();
    return { policy, clients: new Clients({ region: policy.region }) };
  };
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) deps = init();
  return () => {
    deps ??= init();
    return deps;
  };
}

/** The edge for state machine tasks: the event is the task's input, validated by `run`. */
export function taskHandler<R>(name: string, run: (event: unknown, deps: Deps) => Promise<R>) {
  const deps = coldStartDeps();
  return middy(async (event: unknown) => {
    const out = await run(event, deps());
    logger.info(`${name} task finished`, { step: (event as { step?: string } | null)?.step, out });
    return out;
  }).use(injectLambdaContext(logger, { clearState: true }));
}

export function lambdaHandler<R extends RunResult>(
  name: string,
  run: Run<R>,
  opts: {
    clock?: () => Date;
    /** True for an event that continues a run already under way (checked when it started). */
    continues?: (raw: unknown) => boolean;
  } = {},
) {
  const deps = coldStartDeps();
  const clock = opts.clock ?? (() => new Date());
  const metrics = new Metrics({ namespace: 'kura', serviceName: name });

  return middy(async (raw: unknown) => {
    const event = parseScheduledEvent(raw);
    const d = deps();
    // Only the Lambda edge checks against the clock: `kura invoke --time` and
    // the demo run chosen times on purpose (back-fills, simulated weeks).
    const problem = opts.continues?.(raw) ? undefined : eventTimeProblem(new Date(event.time), clock());
    if (problem) throw new InputError([problem]);
    const result = await run(event, d);
    publish(metrics, result);
    if (!result.ok) {
      logger.error('run finished with failures', { result });
      throw new PartialFailureError(
        `${name}: ${result.targets.filter((t) => t.status === 'failed').length} target(s) failed`,
        result,
      );
    }
    logger.info('run finished', { result });
    return result;
  }).use(injectLambdaContext(logger, { clearState: true }));
}
