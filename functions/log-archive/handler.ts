// Lambda edge for `log-archive`: parse the scheduled event, run the daily move.

import type { Deps } from '../../shared/aws/deps.ts';
import { S3FirstPointLedger } from '../../shared/aws/first-points.ts';
import { ownerClients } from '../../shared/aws/source-clients.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { vaultLock } from '../../shared/aws/vault-lock.ts';
import { lambdaHandler } from '../../shared/edge/lambda.ts';
import { parseScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { recordFirstPoints } from '../../shared/usecases/first-points.ts';
import { logArchive } from '../../shared/usecases/log-archive.ts';

/** The plain function tests and `kura invoke` call. */
export async function run(event: unknown, deps: Deps): Promise<RunResult> {
  const { time } = parseScheduledEvent(event);
  const lock = vaultLock(deps.policy);
  const result = await logArchive(new Date(time), deps.policy, {
    store: new S3LogStore(deps.clients, lock),
    // The landing is read, emptied and copied from as its owning account's kura-source role.
    ...(deps.policy.logs
      ? { landing: new S3LogStore(ownerClients(deps.clients, deps.policy, deps.policy.logs), lock) }
      : {}),
  });
  await recordFirstPoints(deps, result, new S3FirstPointLedger(deps.clients, deps.policy));
  return result;
}

export const handler = lambdaHandler('log-archive', run);
