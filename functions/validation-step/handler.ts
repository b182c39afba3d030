// Lambda edge for `validation-step`: the tasks of the validation state machine
// (plan, restore, check, cleanup, report), chosen by the event's `step`. Each
// state passes its whole (small) state as `input`; the work is in the use case.
// The restore state machine's yearly rehearsal runs here too: its run made of
// the restore's records (rehearsal-plan), the checks and report as above, and
// the cleanup of everything the restore made (rehearsal-cleanup).
import * as z from 'zod/mini';
import type { Deps } from '../../shared/aws/deps.ts';
import { taskHandler } from '../../shared/edge/lambda.ts';
import { validationPorts } from '../../shared/edge/ports.ts';
import { rehearsalPorts } from '../../shared/edge/rehearsal-ports.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import {
  checkItem,
  cleanupItem,
  planValidation,
  reportValidation,
  restoreItem,
  runIdFor,
  type StepOptions,
} from '../../shared/usecases/validation.ts';
import { cleanupRehearsal, planRehearsal } from '../../shared/usecases/validation/rehearsal.ts';
import type { CheckPorts } from '../../shared/validation/checks/types.ts';

const failure = z.nullable(
  z.optional(z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
);
const pointer = z.strictObject({
  runId: z.string(),
  index: z.int(),
  class: z.enum(['database', 'image', 'content', 'logs']),
  source: z.string(),
});
const eventSchema = z.discriminatedUnion('step', [
  z.strictObject({
    step: z.literal('plan'),
    input: z.looseObject({
      time: z.iso.datetime({ offset: true }),
      runId: z.optional(z.string()),
    }),
  }),
  z.strictObject({
    step: z.enum(['restore', 'check', 'cleanup']),
    input: z.looseObject({ item: pointer, error: failure }),
  }),
  z.strictObject({
    step: z.enum(['rehearsal-plan', 'rehearsal-cleanup']),
    input: z.looseObject({
      requestId: z
        .string()
        .check(z.regex(/^rehearsal-[a-z0-9-]{1,14}$/, 'expected a rehearsal id such as rehearsal-202702150100')),
    }),
  }),
  z.strictObject({
    step: z.literal('report'),
    input: z.looseObject({
      time: z.iso.datetime({ offset: true }),
      /** A yearly rehearsal's report (restore machine) names its run: rehearsal-<yyyymmddHHMM>. */
      runId: z.optional(z.string()),
      plan: z.optional(z.looseObject({ runId: z.string() })),
      planError: failure,
      mapError: failure,
    }),
  }),
]);

export interface RunOptions extends StepOptions {
  /** Check adapters to use instead of AWS's (tests: a stand-in database, an injected fault). */
  ports?: CheckPorts;
}

/** The plain function tests, `kura run validation` and the state machine runner call. */
export async function run(event: unknown, deps: Deps, opts: RunOptions = {}): Promise<unknown> {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success)
    throw new InputError(
      parsed.error.issues.map((i) => `event.${i.path.map(String).join('.') || '(root)'}: ${i.message}`),
    );
  const e = parsed.data;
  const ports = validationPorts(deps, opts.ports);
  switch (e.step) {
    case 'plan': {
      const { plan, pointers } = await planValidation(
        deps,
        ports,
        new Date(e.input.time),
        e.input.runId,
      );
      return { runId: plan.runId, items: pointers, nothing: plan.nothing.map((n) => n.class) };
    }
    case 'restore':
      return restoreItem(deps, ports, e.input.item, opts);
    case 'check':
      return checkItem(deps, ports, e.input.item);
    case 'cleanup':
      return cleanupItem(deps, ports, e.input.item, e.input.error ?? undefined);
    case 'rehearsal-plan':
      return planRehearsal(deps, rehearsalPorts(deps), e.input.requestId);
    case 'rehearsal-cleanup':
      return cleanupRehearsal(deps, rehearsalPorts(deps), e.input.requestId, opts);
    case 'report': {
      const runId = e.input.plan?.runId ?? runIdFor(new Date(e.input.time), e.input.runId);
      const { result } = await reportValidation(deps, ports, {
        runId,
        time: new Date(e.input.time).toISOString(),
        planError: e.input.planError ?? undefined,
        mapError: e.input.mapError ?? undefined,
      });
      return result;
    }
  }
}

export const handler = taskHandler('validation-step', run);
