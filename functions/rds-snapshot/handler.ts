// Lambda edge for `rds-snapshot`: parse the scheduled event, run the use case.

import type { Deps } from '../../shared/aws/deps.ts';
import { S3FirstPointLedger } from '../../shared/aws/first-points.ts';
import { KmsAdapter } from '../../shared/aws/kms.ts';
import { RdsAdapter } from '../../shared/aws/rds.ts';
import { sourceClients } from '../../shared/aws/source-clients.ts';
import { lambdaHandler } from '../../shared/edge/lambda.ts';
import { parseScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { recordFirstPoints } from '../../shared/usecases/first-points.ts';
import { rdsSnapshot } from '../../shared/usecases/rds-snapshot.ts';

/** The plain function tests and `kura invoke` call. */
export async function run(event: unknown, deps: Deps): Promise<RunResult> {
  const { policy, clients } = deps;
  const { time } = parseScheduledEvent(event);
  const sources = sourceClients(clients, policy);
  const result = await rdsSnapshot(
    new Date(time),
    policy,
    sources.targets.map((target) => {
      const c = sources.clientsFor(target);
      return { target, ports: { db: new RdsAdapter(c), keys: new KmsAdapter(c) } };
    }),
  );
  await recordFirstPoints(deps, result, new S3FirstPointLedger(deps.clients, deps.policy));
  return result;
}

export const handler = lambdaHandler('rds-snapshot', run);
