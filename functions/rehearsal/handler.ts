// Lambda edge for `rehearsal`: the yearly rehearsal's own tasks in the restore
// state machine, after it restored every class (plan: the restore's records
// as the rehearsal run; cleanup: everything the restore made removed). The
// checks and the chained report are the validation-step function's states.
import * as z from 'zod/mini';
import type { Deps } from '../../shared/aws/deps.ts';
import { taskHandler } from '../../shared/edge/lambda.ts';
import { rehearsalPorts } from '../../shared/edge/rehearsal-ports.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { cleanupRehearsal, planRehearsal } from '../../shared/usecases/validation/rehearsal.ts';

const eventSchema = z.strictObject({
  step: z.enum(['plan', 'cleanup']),
  requestId: z
    .string()
    .check(z.regex(/^rehearsal-[a-z0-9-]{1,14}$/, 'expected a rehearsal id such as rehearsal-202702150100')),
});

/** The plain function tests and the local state machine runner call. */
export async function run(
  event: unknown,
  deps: Deps,
  opts: { maxWaitSeconds?: number } = {},
): Promise<unknown> {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success)
    throw new InputError(
      parsed.error.issues.map(
        (i) =>
          `event.${i.path.map(String).join('.') || '(root)'}: ${i.message}; expected step plan|cleanup and requestId`,
      ),
    );
  const { step, requestId } = parsed.data;
  const ports = rehearsalPorts(deps);
  return step === 'plan'
    ? planRehearsal(deps, ports, requestId)
    : cleanupRehearsal(deps, ports, requestId, opts);
}

export const handler = taskHandler('rehearsal', run);
