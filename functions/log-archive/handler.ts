// Lambda edge for `log-archive`: parse the scheduled event, run the daily move.

import type { Deps } from '../../shared/aws/deps.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { lambdaHandler } from '../../shared/edge/lambda.ts';
import { parseScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { logArchive } from '../../shared/usecases/log-archive.ts';

/** The plain function tests and `kura invoke` call. */
export async function run(event: unknown, { policy, clients }: Deps): Promise<RunResult> {
  const { time } = parseScheduledEvent(event);
  return logArchive(new Date(time), policy, { store: new S3LogStore(clients) });
}

export const handler = lambdaHandler('log-archive', run);
