// Lambda edge for `content-backup`: parse the scheduled event (and the loop's
// tuning, if any) and run one step of the day's content generations. The
// content-backup state machine sends `step`: `plan`, then one `shard` per Map
// child (with its `item`), then `finish`; each step is time-boxed and called
// again until `complete`. Without `step` (kura invoke) the three run in one
// invocation.
import * as z from 'zod/mini';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { contentBackupPorts } from '../../shared/aws/content-generations.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { ownerClients } from '../../shared/aws/source-clients.ts';
import { S3FirstPointLedger } from '../../shared/aws/first-points.ts';
import { vaultLock } from '../../shared/aws/vault-lock.ts';
import { lambdaHandler } from '../../shared/edge/lambda.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { parseScheduledEvent } from '../../shared/runtime/event.ts';
import {
  type ContentRunResult,
  contentBackup,
  finishContentBackup,
  planContentBackup,
  runContentShard,
} from '../../shared/usecases/content-backup.ts';
import { recordFirstPoints } from '../../shared/usecases/first-points.ts';

const detailSchema = z.looseObject({
  budgetSeconds: z.optional(z.number().check(z.nonnegative('expected seconds >= 0'))),
  chunkKeys: z.optional(z.int().check(z.positive('expected a positive number of keys'))),
  shardKeys: z.optional(z.int().check(z.positive('expected a positive number of keys'))),
  sources: z.optional(z.array(z.string())),
});

const stepSchema = z.looseObject({
  step: z.optional(z.enum(['plan', 'shard', 'finish'])),
  item: z.optional(
    z.object({
      source: z.string(),
      shard: z.int().check(z.nonnegative('expected a shard number >= 0')),
    }),
  ),
});

function issues(prefix: string, error: z.core.$ZodError): InputError {
  return new InputError(error.issues.map((i) => `${prefix}${i.path.map(String).join('.')}: ${i.message}`));
}

/** The plain function tests, `kura invoke` and the local state machine runner call. */
export async function run(event: unknown, deps: Deps): Promise<ContentRunResult> {
  const { policy, clients } = deps;
  const { time, detail } = parseScheduledEvent(event);
  const d = detailSchema.safeParse(detail);
  if (!d.success) throw issues('event.detail.', d.error);
  const s = stepSchema.safeParse(event);
  if (!s.success) throw issues('event.', s.error);
  const lock = vaultLock(policy);
  // Each source is listed and copied as its owning account's kura-source role (kura's own in
  // single-account mode); the vault's manifests, markers and locks stay kura's own.
  const ports = contentBackupPorts(new S3ContentAdapter(clients, undefined, lock), policy, (source) =>
    new S3ContentAdapter(ownerClients(clients, policy, source), undefined, lock),
  );
  const at = new Date(time);
  const opts = {
    budgetMs: d.data.budgetSeconds === undefined ? undefined : d.data.budgetSeconds * 1000,
    chunkKeys: d.data.chunkKeys,
    shardKeys: d.data.shardKeys,
    sources: d.data.sources,
  };
  // A complete generation (the finish step's, or one invocation's) is a recovery point for the ledger.
  let result: ContentRunResult;
  switch (s.data.step) {
    case 'plan':
      return planContentBackup(at, policy, ports, opts);
    case 'shard':
      if (!s.data.item) throw new InputError(['event.item: expected { source, shard } for step "shard"']);
      return runContentShard(at, policy, ports, s.data.item, opts);
    case 'finish':
      result = await finishContentBackup(at, policy, ports, opts);
      break;
    default:
      result = await contentBackup(at, policy, ports, opts);
  }
  await recordFirstPoints(deps, result, new S3FirstPointLedger(deps.clients, deps.policy));
  return result;
}

// Only the first call of a run is held to the edge's clock check: shards and
// the finish step, and later slices (which carry the previous slice's `result`
// or a plan in progress), continue a run that was checked when it started. A
// first generation of a large bucket may take many hours of slices.
export const continuesContentRun = (raw: unknown): boolean => {
  if (typeof raw !== 'object' || raw === null) return false;
  const e = raw as { result?: unknown; step?: unknown; plan?: { generation?: unknown } };
  return (
    'result' in e ||
    e.step === 'shard' ||
    e.step === 'finish' ||
    (e.step === 'plan' && typeof e.plan?.generation === 'string')
  );
};

export const handler = lambdaHandler('content-backup', run, { continues: continuesContentRun });
