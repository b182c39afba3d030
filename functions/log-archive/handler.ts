// Lambda edge for `log-archive`: parse the scheduled event, run the daily move.
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { parseScheduledEvent } from '../../shared/runtime/event.ts';
import { type Deps, lambdaHandler } from '../../shared/runtime/lambda.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { logArchive } from '../../shared/usecases/log-archive.ts';

/** The plain function tests and `kura invoke` call. */
export async function run(event: unknown, { policy, clients }: Deps): Promise<RunResult> {
  const { time } = parseScheduledEvent(event);
  return logArchive(new Date(time), policy, { store: new S3LogStore(clients) });
}

export const handler = lambdaHandler('log-archive', run);
