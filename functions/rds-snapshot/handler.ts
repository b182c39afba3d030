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
  const ports = (c: typeof clients) => ({ db: new RdsAdapter(c), keys: new KmsAdapter(c) });
  // With sources, the copies are kept in kura's own (backup) account, in the policy's region.
  const backup = policy.sources?.length
    ? { ports: ports(clients), accountId: await clients.accountId(), region: policy.region }
    : undefined;
  const result = await rdsSnapshot(
    new Date(time),
    policy,
    sources.targets.map((target) => ({ target, ports: ports(sources.clientsFor(target)) })),
    backup,
  );
  await recordFirstPoints(deps, result, new S3FirstPointLedger(deps.clients, deps.policy));
  return result;
}

export const handler = lambdaHandler('rds-snapshot', run);
