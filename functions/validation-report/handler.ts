// Lambda edge for `validation-report`: the validation state machine's report
// state (verdict, leftovers in the isolated account, kura:validated tags, JSON
// and HTML sealed with Object Lock, the hash chain), and the same for the
// restore machine's yearly rehearsal run. A function of its own, so that its
// bundle carries neither the plan's listings and isolated-target set-up nor any
// class's restore. It runs as ValidationReportRole (deploy/iam/validation-report.yml).
import * as z from 'zod/mini';
import type { Deps } from '../../shared/aws/deps.ts';
import { parseEvent, stateFailure as failure } from '../../shared/edge/events.ts';
import { taskHandler } from '../../shared/edge/lambda.ts';
import { validationReportPorts } from '../../shared/edge/ports.ts';
import { runIdFor } from '../../shared/usecases/validation/records.ts';
import { reportValidation } from '../../shared/usecases/validation/report.ts';

const eventSchema = z.strictObject({
  step: z.literal('report'),
  input: z.looseObject({
    time: z.iso.datetime({ offset: true }),
    /** A yearly rehearsal's report (restore machine) names its run: rehearsal-<yyyymmddHHMM>. */
    runId: z.optional(z.string()),
    plan: z.optional(z.looseObject({ runId: z.string() })),
    planError: failure,
    mapError: failure,
  }),
});

/** The plain function tests, the local runner and `kura invoke` call. */
export async function run(event: unknown, deps: Deps): Promise<unknown> {
  const e = parseEvent(eventSchema, event, '; expected step report with input.time');
  const runId = e.input.plan?.runId ?? runIdFor(new Date(e.input.time), e.input.runId);
  const { result } = await reportValidation(deps, validationReportPorts(deps), {
    runId,
    time: new Date(e.input.time).toISOString(),
    planError: e.input.planError ?? undefined,
    mapError: e.input.mapError ?? undefined,
  });
  return result;
}

export const handler = taskHandler('validation-report', run);
