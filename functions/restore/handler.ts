// Lambda edge for `restore`: the tasks of the restore state machine, chosen by
// the "step" field (plan, approval, report). Validates the event, runs the use
// case; errors keep their names so the ASL can Catch them. Each class's items
// run in a function of their own (functions/restore-<class>), so that this
// one carries the listings and the pre-flight, and no class's restore.
import * as z from 'zod/mini';
import type { Deps } from '../../shared/aws/deps.ts';
import { taskHandler } from '../../shared/edge/lambda.ts';
import { awsRestorePlanPorts, restoreStore } from '../../shared/edge/restore-ports.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { recordPlan, requestApproval, writeReport } from '../../shared/usecases/restore.ts';

const eventSchema = z.discriminatedUnion('step', [
  z.looseObject({
    step: z.literal('plan'),
    request: z.unknown(),
    execution: z.optional(z.string()),
    time: z.optional(z.string()),
  }),
  z.looseObject({
    step: z.literal('approval'),
    requestId: z.string(),
    context: z.optional(z.looseObject({})),
  }),
  z.looseObject({
    step: z.literal('report'),
    requestId: z.string(),
    failure: z.optional(z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
  }),
]);

/** The plain function tests, the local runner and `kura invoke` call. */
export async function run(event: unknown, deps: Deps): Promise<unknown> {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InputError(
      parsed.error.issues.map(
        (i) =>
          `event.${i.path.map(String).join('.') || 'step'}: ${i.message}; expected step plan|approval|report (an item runs in restore-<class>)`,
      ),
    );
  }
  const e = parsed.data;
  // Progress is timed on the clock restores wait on (real on AWS, simulated in local runs).
  const now = () => new Date(deps.clients.timer.now());
  switch (e.step) {
    case 'plan':
      return recordPlan(
        e.request,
        deps,
        e.time ? new Date(e.time) : new Date(),
        awsRestorePlanPorts(deps),
        e.execution,
      );
    case 'approval':
      return requestApproval(
        e as { requestId: string; context?: { Task?: { Token?: string } } },
        new Date(),
        { store: restoreStore(deps) },
      );
    case 'report':
      return writeReport(e, now(), { store: restoreStore(deps) });
  }
}

export const handler = taskHandler('restore', run);
