// Lambda edge for `content-backup`: parse the scheduled event (and the loop's
// tuning, if any), run one time-boxed slice of the day's content generations.
// The content-backup state machine calls it again until `complete` is true.
import * as z from 'zod/mini';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { parseScheduledEvent } from '../../shared/runtime/event.ts';
import { type Deps, lambdaHandler } from '../../shared/runtime/lambda.ts';
import { type ContentRunResult, contentBackup } from '../../shared/usecases/content-backup.ts';
import { recordFirstPoints } from '../../shared/usecases/first-points.ts';

const detailSchema = z.looseObject({
  budgetSeconds: z.optional(z.number().check(z.nonnegative('expected seconds >= 0'))),
  chunkKeys: z.optional(z.int().check(z.positive('expected a positive number of keys'))),
  sources: z.optional(z.array(z.string())),
});

/** The plain function tests, `kura invoke` and the local state machine runner call. */
export async function run(event: unknown, deps: Deps): Promise<ContentRunResult> {
  const { policy, clients } = deps;
  const { time, detail } = parseScheduledEvent(event);
  const d = detailSchema.safeParse(detail);
  if (!d.success)
    throw new InputError(
      d.error.issues.map((i) => `event.detail.${i.path.map(String).join('.')}: ${i.message}`),
    );
  const result = await contentBackup(new Date(time), policy, new S3ContentAdapter(clients), {
    budgetMs: d.data.budgetSeconds === undefined ? undefined : d.data.budgetSeconds * 1000,
    chunkKeys: d.data.chunkKeys,
    sources: d.data.sources,
  });
  await recordFirstPoints(deps, result);
  return result;
}

// The state machine's later slices carry the previous slice's `result` and the
// unchanged scheduled time: a first generation of a large bucket may take many
// hours of slices, so only the first slice is held to the edge's clock check.
export const continuesContentRun = (raw: unknown): boolean =>
  typeof raw === 'object' && raw !== null && 'result' in raw;

export const handler = lambdaHandler('content-backup', run, { continues: continuesContentRun });
