// Restore step (database class): the latest kura-managed snapshots per
// database, restored into the isolated account: share the snapshot with it,
// copy it there re-encrypted with the isolated account's key, restore the copy
// not publicly accessible into the isolated DB subnet group, wait until it is
// available. One flow for an RDS instance and an Aurora cluster; what differs
// per kind is in database-kinds.ts. Resumable: names derive from the run id,
// so a retried invocation finds its own earlier work and continues. Cleanup
// deletes only kura-managed resources.
import type { DatabaseKind, Snapshot } from '../aws/rds.ts';
import type { DatabaseRestorePorts, SourceSnapshotPort } from '../aws/restore-ports.ts';
import { restoredName } from '../domain/naming.ts';
import { isManaged, managedTags, TAG, type TagMap, taggedTime } from '../domain/tags.ts';
import { originOf, sourceAccountOf } from './source-account.ts';
import { KuraError, NotReadyError } from '../runtime/errors.ts';
import type { Clients } from '../aws/clients.ts';
import type { Deps } from '../aws/deps.ts';
import { removeEach } from './cleanup.ts';
import {
  DATABASE_KINDS,
  ensureCopy,
  REMOVERS,
  RUN_TAG,
  type StageContext,
  type WaitOptions,
} from './database-kinds.ts';
import type {
  CreatedResource,
  IsolatedTarget,
  RecoveryPointRef,
  RestoredItem,
  RestoreStep,
} from './types.ts';

export { clusterWriterName, RUN_TAG } from './database-kinds.ts';

export interface RestoreOptions extends WaitOptions {
  /** Identifies the run: names and the kura:run tag derive from it. */
  runId: string;
  purpose?: 'validation' | 'restore';
  /** Instance class of the restored database (default: the source's, else db.t4g.micro). */
  instanceClass?: string;
}

/** A restore failed part-way: `resources` lists what exists and must be cleaned up. */
export class RestoreFailedError extends KuraError {
  override name = 'RestoreFailedError';
  constructor(
    message: string,
    readonly resources: CreatedResource[],
  ) {
    super(message);
  }
}

function restoreOptions(opts: Record<string, unknown> | undefined): RestoreOptions {
  const runId = typeof opts?.runId === 'string' ? opts.runId : '';
  if (!/^[a-z0-9-]{1,24}$/.test(runId))
    throw new Error(`restore options: runId "${runId}" must be 1-24 characters a-z, 0-9, -`);
  return { ...(opts as Partial<RestoreOptions>), runId };
}

/** Resource types of a share of a source snapshot with the isolated account (they live in the source account). */
export const SHARE_TYPES: Record<DatabaseKind, string> = {
  instance: DATABASE_KINDS.instance.shareType,
  cluster: DATABASE_KINDS.cluster.shareType,
};

/** The database recovery points (also the plan's listing: only the two ports it reads). */
export async function listDatabase(
  ports: {
    snapshots(clients: Clients): Pick<SourceSnapshotPort, 'listSnapshots'>;
    backedUpDatabases: DatabaseRestorePorts['backedUpDatabases'];
  },
  deps: Deps,
  opts: { source?: string; before?: Date; account?: string; sourceRegion?: string } = {},
): Promise<RecoveryPointRef[]> {
  const { clients } = deps;
  const adapter = ports.snapshots(clients);
  const out: RecoveryPointRef[] = [];
  // A deleted database named by the request is found by its snapshots.
  const dbs = (await ports.backedUpDatabases(deps, opts.source ? [opts.source] : [])).filter(
    (d) => !opts.source || d.id === opts.source,
  );
  const sources = Boolean(deps.policy.sources?.length);
  for (const db of dbs) {
    // With sources, these are the backup account's copies, tagged with the account they come
    // from: a database named in a request is taken from the one account it names or implies.
    const managed = (await adapter.listSnapshots(db.kind, db.id)).filter(
      (s) => isManaged(s.tags, 'database') && s.status === 'available',
    );
    const holders = managed.flatMap((s) => s.tags[TAG.sourceAccount] ?? []);
    const account =
      sources && opts.source ? sourceAccountOf('database.account', db.id, opts.account, holders) : undefined;
    const points = managed
      .filter((s) => !account || s.tags[TAG.sourceAccount] === account)
      .filter((s) => !opts.sourceRegion || s.tags[TAG.sourceRegion] === opts.sourceRegion)
      .map((s) => ({ s, time: taggedTime(s.tags) }))
      .filter(
        (p): p is { s: Snapshot; time: Date } =>
          p.time !== undefined && (!opts.before || p.time <= opts.before),
      )
      .sort((a, b) => b.time.getTime() - a.time.getTime());
    for (const { s, time } of points) {
      out.push({
        class: 'database',
        source: db.id,
        id: s.id,
        time: time.toISOString(),
        region: clients.region,
        details: {
          kind: db.kind,
          arn: s.arn,
          engine: db.engine,
          engineVersion: s.engineVersion,
          allocatedStorage: s.allocatedStorage,
          encrypted: s.encrypted,
          kmsKeyId: s.kmsKeyId,
          validated: s.tags[TAG.validated],
          ...(s.tags[TAG.sourceAccount]
            ? { account: s.tags[TAG.sourceAccount], sourceRegion: s.tags[TAG.sourceRegion] }
            : {}),
        },
      });
    }
  }
  return out;
}

async function restoreDatabase(
  ports: DatabaseRestorePorts,
  deps: Deps,
  target: IsolatedTarget,
  rp: RecoveryPointRef,
  rawOpts?: Record<string, unknown>,
): Promise<RestoredItem> {
  const opts = restoreOptions(rawOpts);
  const purpose = opts.purpose ?? 'validation';
  const started = new Date(deps.clients.timer.now());
  const kind: DatabaseKind = rp.details?.kind === 'cluster' ? 'cluster' : 'instance';
  // With sources, the name carries the source account and region: two of one name stay apart.
  const name = restoredName(purpose, opts.runId, rp.source, originOf(rp));
  const tags: TagMap = {
    ...managedTags({ backupClass: purpose, source: rp.source, time: new Date(rp.time), createdBy: purpose }),
    [RUN_TAG]: opts.runId,
    [TAG.copyOf]: `${rp.region}:${rp.id}`,
  };
  const created: CreatedResource[] = [];
  try {
    // 1. The snapshot, still there and kura's own; shared with the isolated account.
    const source = ports.snapshots(deps.clients);
    const snap = await source.getSnapshot(kind, rp.id, rp.region);
    if (!snap || !isManaged(snap.tags, 'database'))
      throw new Error(`snapshot ${rp.id} of ${rp.source} is gone or not kura-managed`);
    if (snap.encrypted && snap.kmsKeyId) {
      const key = await ports.keys(deps.clients).describe(snap.kmsKeyId, rp.region);
      if (key.manager === 'AWS') {
        throw new Error(
          `snapshot ${rp.id} is encrypted with an AWS managed key (${key.arn}), which cannot be shared with the isolated account`,
        );
      }
    }
    await shareForRun(deps, source, snap, target, rp, purpose, created);

    // 2. The copy in the isolated account, re-encrypted with its key.
    const network = target.network?.dbSubnetGroup
      ? target.network
      : await ports.network(target.clients, target.region);
    const kmsKeyId =
      (rawOpts?.kmsKeyArn as string | undefined) ?? (await ports.key(target.clients, target.region));
    const ctx: StageContext = {
      rds: ports.rds(target.clients, target.region),
      target,
      runId: opts.runId,
      created,
      wait: opts,
      timer: target.clients.timer,
    };
    const input = { name, source: snap, network, kmsKeyId, tags, instanceClass: opts.instanceClass };
    await ensureCopy(ctx, kind, input);

    // 3. The database, not publicly accessible, in the isolated subnet group.
    const endpoint = await DATABASE_KINDS[kind].restore(ctx, input);
    const finished = new Date(deps.clients.timer.now());
    return {
      class: 'database',
      source: rp.source,
      recoveryPoint: rp,
      resources: created,
      endpoint,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationSeconds: Math.round((finished.getTime() - started.getTime()) / 1000),
    };
  } catch (err) {
    // Not ready yet: the attempt says what exists so far (a retry may never come, then cleanup needs it).
    if (err instanceof NotReadyError) throw Object.assign(err, { resources: created });
    const e = err as Error;
    throw new RestoreFailedError(`database ${rp.source} from ${rp.id}: ${e.name}: ${e.message}`, created);
  }
}

/**
 * Shares the source snapshot with the isolated account. When a validation run
 * shares it (the policy does not share permanently), the share is recorded so
 * the run removes it again afterwards (unshareAfterRun), also when a resumed
 * attempt finds it already there: on AWS the copy takes longer than one
 * attempt, and only kura's runs share a managed snapshot the policy keeps unshared.
 */
async function shareForRun(
  deps: Deps,
  source: SourceSnapshotPort,
  snap: Snapshot,
  target: IsolatedTarget,
  rp: RecoveryPointRef,
  purpose: 'validation' | 'restore',
  created: CreatedResource[],
): Promise<void> {
  if (purpose === 'validation' && !deps.policy.database?.shareWithIsolatedAccount) {
    const { snapshotCli: cli, shareType } = DATABASE_KINDS[snap.kind];
    created.push({
      type: shareType,
      id: snap.id,
      account: await deps.clients.accountId(),
      region: rp.region,
      cleanup: `aws rds ${cli.modifyAttribute} ${cli.option} ${snap.id} --attribute-name restore --values-to-remove ${target.accountId} --region ${rp.region}`,
    });
  }
  if ((await source.sharedWith(snap, rp.region)).includes(target.accountId)) return;
  await source.shareSnapshot(snap, target.accountId);
}

/**
 * Removes the isolated account from the `restore` attribute of source
 * snapshots that this run shared (recorded by shareForRun); run after the
 * isolated copy is gone or no longer needed. Source-account side of cleanup
 * (`source`: the source account's snapshots).
 */
export async function unshareAfterRun(
  source: SourceSnapshotPort,
  isolatedAccount: string,
  resources: CreatedResource[],
): Promise<void> {
  for (const r of resources) {
    const kind = (Object.keys(SHARE_TYPES) as DatabaseKind[]).find((k) => SHARE_TYPES[k] === r.type);
    if (!kind) continue;
    const snap = await source.getSnapshot(kind, r.id, r.region);
    if (!snap) continue;
    if (!(await source.sharedWith(snap, r.region)).includes(isolatedAccount)) continue;
    await source.unshareSnapshot(snap, isolatedAccount, r.region);
  }
}

/** The database step's cleanup (also alone: shared/edge/restore-cleanups.ts). */
export async function cleanupDatabase(
  ports: Pick<DatabaseRestorePorts, 'rds'>,
  target: IsolatedTarget,
  resources: CreatedResource[],
  opts: WaitOptions = {},
): Promise<void> {
  const rds = ports.rds(target.clients, target.region);
  const order = REMOVERS.map(([type]) => type);
  const ordered = resources
    .filter((r) => order.includes(r.type))
    .sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  const removers = new Map(REMOVERS);
  await removeEach(ordered, async (r) => {
    const remover = removers.get(r.type);
    if (!remover) return;
    const found = await remover.get(rds, r.id);
    // Already gone (or going) is clean.
    if (!found || found.status === 'deleting') return;
    if (!isManaged(found.tags)) throw new Error(`refusing to delete ${r.id}: not kura-managed`);
    await remover.remove(rds, found, { ...opts, timer: target.clients.timer });
  });
}

/** The database restore step over the given adapters. */
export function databaseStep(ports: DatabaseRestorePorts): RestoreStep {
  return {
    class: 'database',
    list: (deps, opts) => listDatabase(ports, deps, opts),
    restore: (deps, target, rp, opts) => restoreDatabase(ports, deps, target, rp, opts),
    cleanup: (target, resources) => cleanupDatabase(ports, target, resources),
  };
}
