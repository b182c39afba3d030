// Lambda edge for `log-bundle`: parse the scheduled event and run the monthly
// bundling. The log-bundle state machine sends `step: plan` (the due groups
// as Map items), then `step: group` with one `item` per Map child; without
// `step` (kura invoke) every group is bundled in one invocation.
import * as z from 'zod/mini';
import type { Deps } from '../../shared/aws/deps.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { sealedLogStore } from '../../shared/aws/seals.ts';
import { vaultLock } from '../../shared/aws/vault-lock.ts';
import { lambdaHandler } from '../../shared/edge/lambda.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { parseScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { bundleLogGroup, logBundle, planLogBundle } from '../../shared/usecases/log-bundle.ts';

const stepSchema = z.looseObject({
  step: z.optional(z.enum(['plan', 'group'])),
  item: z.optional(z.object({ logClass: z.string(), host: z.string(), month: z.string() })),
});

/** The plain function tests, `kura invoke` and the local state machine runner call. */
export async function run(event: unknown, { policy, clients }: Deps): Promise<RunResult> {
  const { time } = parseScheduledEvent(event);
  const s = stepSchema.safeParse(event);
  if (!s.success)
    throw new InputError(s.error.issues.map((i) => `event.${i.path.map(String).join('.')}: ${i.message}`));
  const ports = sealedLogStore(new S3LogStore(clients, vaultLock(policy)), policy.vault.bucket);
  const now = new Date(time);
  if (s.data.step === 'plan') return planLogBundle(now, policy, ports);
  if (s.data.step === 'group') {
    if (!s.data.item)
      throw new InputError(['event.item: expected { logClass, host, month } for step "group"']);
    return bundleLogGroup(now, policy, ports, s.data.item);
  }
  return logBundle(now, policy, ports);
}

// A group step continues a run whose plan step was checked against the clock.
export const continuesLogBundle = (raw: unknown): boolean =>
  typeof raw === 'object' && raw !== null && (raw as { step?: unknown }).step === 'group';

export const handler = lambdaHandler('log-bundle', run, { continues: continuesLogBundle });
