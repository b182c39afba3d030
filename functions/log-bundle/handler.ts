// Lambda edge for `log-bundle`: parse the scheduled event, run the monthly bundling.

import type { Deps } from '../../shared/aws/deps.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { lambdaHandler } from '../../shared/edge/lambda.ts';
import { parseScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { logBundle } from '../../shared/usecases/log-bundle.ts';

/** The plain function tests and `kura invoke` call. */
export async function run(event: unknown, { policy, clients }: Deps): Promise<RunResult> {
  const { time } = parseScheduledEvent(event);
  return logBundle(new Date(time), policy, { store: new S3LogStore(clients) });
}

export const handler = lambdaHandler('log-bundle', run);
