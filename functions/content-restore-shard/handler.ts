// Lambda edge for `content-restore-shard`: the Map children of a whole content
// generation restored (restore machine) or verified (validation machine), shard
// by shard on the generation's stored plan. `items` makes one Map item per
// shard; `shard` runs or continues one for one time-boxed slice, called again
// by the child's Choice loop until `complete`.
import * as z from 'zod/mini';
import type { Deps } from '../../shared/aws/deps.ts';
import { taskHandler } from '../../shared/edge/lambda.ts';
import { contentShardPorts } from '../../shared/edge/ports.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import {
  type ContentShardItem,
  restoreShardItems,
  runShardItem,
  verifyShardItems,
} from '../../shared/usecases/content-restore-shards.ts';

const tuning = z.optional(
  z.looseObject({
    budgetSeconds: z.optional(z.number().check(z.nonnegative('expected seconds >= 0'))),
    chunkKeys: z.optional(z.int().check(z.positive('expected a positive number of keys'))),
    checkpointSeconds: z.optional(z.number().check(z.nonnegative('expected seconds >= 0'))),
  }),
);

const eventSchema = z.discriminatedUnion('step', [
  z.looseObject({
    step: z.literal('items'),
    requestId: z.string(),
    keys: z.array(z.string()),
    state: z.optional(z.looseObject({ contentTuning: tuning })),
  }),
  z.looseObject({
    step: z.literal('verify-items'),
    runId: z.string(),
    state: z.optional(z.looseObject({ contentTuning: tuning })),
  }),
  z.looseObject({
    step: z.literal('shard'),
    item: z.looseObject({
      job: z.looseObject({
        id: z.string(),
        mode: z.enum(['restore', 'verify']),
        source: z.string(),
        generation: z.string(),
      }),
      shard: z.looseObject({ shard: z.int(), manifest: z.string() }),
      isolated: z.boolean(),
      tuning,
    }),
  }),
]);

/** The plain function tests and the local state machine runner call. */
export async function run(event: unknown, deps: Deps): Promise<unknown> {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success)
    throw new InputError(
      parsed.error.issues.map(
        (i) =>
          `event.${i.path.map(String).join('.') || 'step'}: ${i.message}; expected step items|verify-items|shard`,
      ),
    );
  const e = parsed.data;
  const ports = contentShardPorts(deps);
  switch (e.step) {
    case 'items':
      return restoreShardItems(
        { requestId: e.requestId, keys: e.keys, tuning: e.state?.contentTuning },
        ports,
      );
    case 'verify-items':
      return verifyShardItems({ runId: e.runId, tuning: e.state?.contentTuning }, ports);
    case 'shard':
      return runShardItem(e.item as unknown as ContentShardItem, ports);
  }
}

export const handler = taskHandler('content-restore-shard', run);
