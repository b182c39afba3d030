// Lambda edge for `validation-step`: the validation state machine's plan,
// chosen by the event's `step`. Each state passes its whole (small) state as
// `input`; the work is in the use case. Each item's restore, check and cleanup
// run in its class's function (functions/validation-<class>) and the report in
// functions/validation-report, so that this one carries no class's restore or
// check and no report. The restore state machine's yearly rehearsal runs here
// too: its run made of the restore's records (rehearsal-plan) and the cleanup of
// everything the restore made (rehearsal-cleanup, each class's cleanup alone).
import * as z from 'zod/mini';
import type { Deps } from '../../shared/aws/deps.ts';
import { taskHandler } from '../../shared/edge/lambda.ts';
import { parseEvent } from '../../shared/edge/events.ts';
import { validationPlanPorts } from '../../shared/edge/ports.ts';
import { rehearsalPorts } from '../../shared/edge/rehearsal-ports.ts';
import type { StepOptions } from '../../shared/usecases/validation/items.ts';
import { planValidation } from '../../shared/usecases/validation/plan.ts';
import { cleanupRehearsal, planRehearsal } from '../../shared/usecases/validation/rehearsal.ts';

const eventSchema = z.discriminatedUnion('step', [
  z.strictObject({
    step: z.literal('plan'),
    input: z.looseObject({
      time: z.iso.datetime({ offset: true }),
      runId: z.optional(z.string()),
    }),
  }),
  z.strictObject({
    step: z.enum(['rehearsal-plan', 'rehearsal-cleanup']),
    input: z.looseObject({
      requestId: z
        .string()
        .check(
          z.regex(/^rehearsal-[a-z0-9-]{1,14}$/, 'expected a rehearsal id such as rehearsal-202702150100'),
        ),
    }),
  }),
]);

/** The plain function tests, `kura run validation` and the state machine runner call. */
export async function run(event: unknown, deps: Deps, opts: StepOptions = {}): Promise<unknown> {
  const e = parseEvent(
    eventSchema,
    event,
    '; expected step plan|rehearsal-plan|rehearsal-cleanup (an item runs in validation-<class>, the report in validation-report)',
  );
  switch (e.step) {
    case 'plan': {
      const { plan, pointers } = await planValidation(
        deps,
        validationPlanPorts(deps),
        new Date(e.input.time),
        e.input.runId,
      );
      return { runId: plan.runId, items: pointers, nothing: plan.nothing.map((n) => n.class) };
    }
    case 'rehearsal-plan':
      return planRehearsal(deps, rehearsalPorts(deps), e.input.requestId);
    case 'rehearsal-cleanup':
      return cleanupRehearsal(deps, rehearsalPorts(deps), e.input.requestId, opts);
  }
}

export const handler = taskHandler('validation-step', run);
