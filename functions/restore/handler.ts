// Lambda edge for `restore`: the tasks of the restore state machine, chosen by
// the "step" field (plan, approval, item, report). Validates the event, runs
// the use case; errors keep their names so the ASL can Catch them.
import * as z from 'zod/mini';
import type { Deps } from '../../shared/aws/deps.ts';
import { taskHandler } from '../../shared/edge/lambda.ts';
import { awsRestoreItemPorts, awsRestorePlanPorts, restoreStore } from '../../shared/edge/restore-ports.ts';
import { restoreStep } from '../../shared/edge/restore-steps.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { recordPlan, requestApproval, restoreItem, writeReport } from '../../shared/usecases/restore.ts';

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
  z.looseObject({ step: z.literal('item'), requestId: z.string(), key: z.string() }),
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
          `event.${i.path.map(String).join('.') || 'step'}: ${i.message}; expected step plan|approval|item|report`,
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
    case 'item':
      // Every class's steps: splitting the items per class needs per-class targets first (bench/RESULTS.md).
      return restoreItem(e, deps, now, awsRestoreItemPorts(deps, restoreStep));
    case 'report':
      return writeReport(e, now(), { store: restoreStore(deps) });
  }
}

export const handler = taskHandler('restore', run);
