// Restore step (database class): the latest kura-managed snapshots per
// database, restored into the isolated account: share the snapshot with it,
// copy it there re-encrypted with the isolated account's key, restore the copy
// not publicly accessible into the isolated DB subnet group, wait until it is
// available. Resumable: names derive from the run id, so a retried invocation
// finds its own earlier work and continues. Cleanup deletes only kura-managed
// resources.

import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBInstanceCommand,
  type DBCluster,
  type DBClusterSnapshot,
  type DBInstance,
  type DBSnapshot,
  DeleteDBClusterCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import type { Clients } from '../aws/clients.ts';
import { KmsAdapter } from '../aws/kms.ts';
import { type DatabaseKind, RdsAdapter, type Snapshot } from '../aws/rds.ts';
import { backedUpDatabases } from '../aws/rds-sources.ts';
import {
  fromTagList,
  isManaged,
  managedTags,
  TAG,
  type TagMap,
  taggedTime,
  toTagList,
} from '../domain/tags.ts';
import { KuraError, NotReadyError } from '../runtime/errors.ts';
import type { Timer } from '../runtime/timer.ts';
import type { Deps } from '../runtime/lambda.ts';
import { removeEach } from './cleanup.ts';
import { ensureIsolatedKey, ensureIsolatedNetwork } from './isolated-network.ts';
import type {
  CreatedResource,
  IsolatedTarget,
  RecoveryPointRef,
  RestoredItem,
  RestoreStep,
} from './types.ts';

/** Tag on everything one run creates in the isolated account (leftover checks filter on it). */
export const RUN_TAG = 'kura:run';

export interface RestoreOptions {
  /** Identifies the run: names and the kura:run tag derive from it. */
  runId: string;
  purpose?: 'validation' | 'restore';
  /** Wait in-process this long for copies and instances, then NotReadyError (the state machine retries). */
  maxWaitSeconds?: number;
  pollSeconds?: number;
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

/** kura-<v|r>-<runId>-<source>, at most 63 characters (an RDS instance identifier). */
export function restoredName(purpose: 'validation' | 'restore', runId: string, source: string): string {
  const base = `kura-${purpose === 'validation' ? 'v' : 'r'}-${runId}-${source}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-');
  return base.slice(0, 63).replace(/-$/, '');
}

const isNotFound = (err: unknown) => /NotFound/.test((err as Error).name ?? '');

async function describeSnapshot(rds: RDSClient, id: string): Promise<DBSnapshot | undefined> {
  try {
    return (await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }))).DBSnapshots?.[0];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function describeInstance(rds: RDSClient, id: string): Promise<DBInstance | undefined> {
  try {
    return (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function describeClusterSnapshot(rds: RDSClient, id: string): Promise<DBClusterSnapshot | undefined> {
  try {
    return (await rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id })))
      .DBClusterSnapshots?.[0];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function describeCluster(rds: RDSClient, id: string): Promise<DBCluster | undefined> {
  try {
    return (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))).DBClusters?.[0];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Resource types of a share of a source snapshot with the isolated account (they live in the source account). */
export const SHARE_TYPES: Record<DatabaseKind, string> = {
  instance: 'kura::RDS::DBSnapshotShare',
  cluster: 'kura::RDS::DBClusterSnapshotShare',
};

async function waitFor<T>(
  what: string,
  get: () => Promise<T | undefined>,
  ready: (t: T) => boolean,
  failed: (t: T) => boolean,
  opts: RestoreOptions,
  timer: Timer,
): Promise<T> {
  const deadline = timer.now() + (opts.maxWaitSeconds ?? 600) * 1000;
  for (;;) {
    const t = await get();
    if (t === undefined) throw new Error(`${what} disappeared while waiting for it`);
    if (ready(t)) return t;
    if (failed(t)) throw new Error(`${what} failed: ${JSON.stringify(t).slice(0, 300)}`);
    if (timer.now() >= deadline)
      throw new NotReadyError(`${what} is not available yet; the run resumes where it stopped`);
    await timer.sleep((opts.pollSeconds ?? 15) * 1000);
  }
}

/** An existing resource under a name kura derived is adopted only when this run made it. */
function ours(tags: TagMap, runId: string, what: string): void {
  if (!isManaged(tags) || tags[RUN_TAG] !== runId) {
    throw new Error(
      `${what} already exists in the isolated account and was not made by run ${runId}; refusing to adopt or replace it`,
    );
  }
}

function resource(type: string, id: string, target: IsolatedTarget, cleanup: string): CreatedResource {
  return { type, id, account: target.accountId, region: target.region, cleanup };
}

/**
 * Copies the snapshot shared with the isolated account into it, by the
 * source's ARN (RDS user guide, "Copying a shared DB snapshot"), re-encrypted
 * with the isolated account's key: an encrypted snapshot shared by another
 * account must be copied with a KmsKeyId of the copying account.
 */
async function copyShared(
  target: IsolatedTarget,
  source: DBSnapshot,
  copyId: string,
  kmsKeyId: string,
  tags: TagMap,
): Promise<void> {
  await target.clients.get(RDSClient, target.region).send(
    new CopyDBSnapshotCommand({
      SourceDBSnapshotIdentifier: source.DBSnapshotArn,
      TargetDBSnapshotIdentifier: copyId,
      KmsKeyId: kmsKeyId,
      Tags: toTagList(tags),
      CopyTags: false,
    }),
  );
}

/**
 * The cluster counterpart of copyShared. An unencrypted cluster snapshot
 * cannot be encrypted by a copy: CopyDBClusterSnapshot refuses KmsKeyId for
 * it, so the key is passed only for an encrypted one (and must be, when the
 * snapshot is shared by another account). The restore encrypts the cluster.
 */
async function copySharedCluster(
  target: IsolatedTarget,
  source: DBClusterSnapshot,
  copyId: string,
  kmsKeyId: string,
  tags: TagMap,
): Promise<void> {
  await target.clients.get(RDSClient, target.region).send(
    new CopyDBClusterSnapshotCommand({
      SourceDBClusterSnapshotIdentifier: source.DBClusterSnapshotArn,
      TargetDBClusterSnapshotIdentifier: copyId,
      ...(source.StorageEncrypted ? { KmsKeyId: kmsKeyId } : {}),
      Tags: toTagList(tags),
      CopyTags: false,
    }),
  );
}

async function listDatabase(
  deps: Deps,
  opts: { source?: string; before?: Date } = {},
): Promise<RecoveryPointRef[]> {
  const { policy, clients } = deps;
  const adapter = new RdsAdapter(clients);
  const rds = clients.get(RDSClient);
  const out: RecoveryPointRef[] = [];
  // A deleted database named by the request is found by its snapshots.
  const dbs = (await backedUpDatabases(clients, policy, opts.source ? [opts.source] : [])).filter(
    (d) => !opts.source || d.id === opts.source,
  );
  for (const db of dbs) {
    const points = (await adapter.listSnapshots(db.kind, db.id))
      .filter((s) => isManaged(s.tags, 'database') && s.status === 'available')
      .map((s) => ({ s, time: taggedTime(s.tags) }))
      .filter(
        (p): p is { s: typeof p.s; time: Date } =>
          p.time !== undefined && (!opts.before || p.time <= opts.before),
      )
      .sort((a, b) => b.time.getTime() - a.time.getTime());
    for (const { s, time } of points) {
      const raw =
        db.kind === 'instance' ? await describeSnapshot(rds, s.id) : await describeClusterSnapshot(rds, s.id);
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
          engineVersion: raw?.EngineVersion,
          // Aurora storage is not allocated: it grows with the data.
          allocatedStorage: db.kind === 'instance' ? raw?.AllocatedStorage : undefined,
          encrypted: s.encrypted,
          kmsKeyId: s.kmsKeyId,
          validated: s.tags[TAG.validated],
        },
      });
    }
  }
  return out;
}

async function restoreDatabase(
  deps: Deps,
  target: IsolatedTarget,
  rp: RecoveryPointRef,
  rawOpts?: Record<string, unknown>,
): Promise<RestoredItem> {
  const opts = restoreOptions(rawOpts);
  const purpose = opts.purpose ?? 'validation';
  const started = new Date(deps.clients.timer.now());
  const kind: DatabaseKind = rp.details?.kind === 'cluster' ? 'cluster' : 'instance';
  const name = restoredName(purpose, opts.runId, rp.source);
  const tags: TagMap = {
    ...managedTags({ backupClass: purpose, source: rp.source, time: new Date(rp.time), createdBy: purpose }),
    [RUN_TAG]: opts.runId,
    [TAG.copyOf]: `${rp.region}:${rp.id}`,
  };
  const created: CreatedResource[] = [];
  const rds = target.clients.get(RDSClient, target.region);
  try {
    // 1. The snapshot, still there and kura's own; shared with the isolated account.
    const srcRds = new RdsAdapter(deps.clients);
    const snap = await srcRds.getSnapshot(kind, rp.id, rp.region);
    if (!snap || !isManaged(snap.tags, 'database'))
      throw new Error(`snapshot ${rp.id} of ${rp.source} is gone or not kura-managed`);
    if (snap.encrypted && snap.kmsKeyId) {
      const key = await new KmsAdapter(deps.clients).describe(snap.kmsKeyId, rp.region);
      if (key.manager === 'AWS') {
        throw new Error(
          `snapshot ${rp.id} is encrypted with an AWS managed key (${key.arn}), which cannot be shared with the isolated account`,
        );
      }
    }
    await shareForRun(deps, srcRds, snap, target, rp, purpose, created);
    if (kind === 'cluster') {
      const restored = await restoreCluster(deps, target, rp, snap, name, tags, opts, rawOpts, created);
      const finished = new Date(deps.clients.timer.now());
      return {
        class: 'database',
        source: rp.source,
        recoveryPoint: rp,
        resources: created,
        endpoint: restored.endpoint,
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        durationSeconds: Math.round((finished.getTime() - started.getTime()) / 1000),
      };
    }
    const source = await describeSnapshot(deps.clients.get(RDSClient, rp.region), rp.id);
    if (!source) throw new Error(`snapshot ${rp.id} disappeared`);

    // 2. The copy in the isolated account, re-encrypted with its key.
    const network = target.network?.dbSubnetGroup
      ? target.network
      : await ensureIsolatedNetwork(target.clients, target.region);
    const kmsKeyId =
      (rawOpts?.kmsKeyArn as string | undefined) ?? (await ensureIsolatedKey(target.clients, target.region));
    const existingCopy = await describeSnapshot(rds, name);
    if (existingCopy) ours(fromTagList(existingCopy.TagList), opts.runId, `snapshot ${name}`);
    created.push(
      resource(
        'AWS::RDS::DBSnapshot',
        name,
        target,
        `aws rds delete-db-snapshot --db-snapshot-identifier ${name} --region ${target.region}`,
      ),
    );
    if (!existingCopy) await copyShared(target, source, name, kmsKeyId, tags);
    await waitFor(
      `snapshot copy ${name}`,
      () => describeSnapshot(rds, name),
      (s) => s.Status === 'available',
      (s) => s.Status === 'failed' || s.Status === 'error',
      opts,
      target.clients.timer,
    );

    // 3. The database, not publicly accessible, in the isolated subnet group.
    const existing = await describeInstance(rds, name);
    if (existing) ours(fromTagList(existing.TagList), opts.runId, `database ${name}`);
    created.push(
      resource(
        'AWS::RDS::DBInstance',
        name,
        target,
        `aws rds delete-db-instance --db-instance-identifier ${name} --skip-final-snapshot --delete-automated-backups --region ${target.region}`,
      ),
    );
    if (!existing) {
      const dbSg = (network as { dbSecurityGroupId?: string }).dbSecurityGroupId ?? network.securityGroupId;
      await rds.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: name,
          DBSnapshotIdentifier: name,
          DBInstanceClass: opts.instanceClass ?? 'db.t4g.micro',
          DBSubnetGroupName: network.dbSubnetGroup,
          VpcSecurityGroupIds: [dbSg],
          PubliclyAccessible: false,
          MultiAZ: false,
          DeletionProtection: false,
          AutoMinorVersionUpgrade: false,
          CopyTagsToSnapshot: false,
          Tags: toTagList(tags),
        }),
      );
    }
    const inst = await waitFor(
      `database ${name}`,
      () => describeInstance(rds, name),
      (i) => i.DBInstanceStatus === 'available',
      (i) =>
        ['failed', 'incompatible-restore', 'incompatible-parameters', 'storage-full'].includes(
          i.DBInstanceStatus ?? '',
        ),
      opts,
      target.clients.timer,
    );
    const finished = new Date(deps.clients.timer.now());
    return {
      class: 'database',
      source: rp.source,
      recoveryPoint: rp,
      resources: created,
      endpoint: inst.Endpoint?.Address ? `${inst.Endpoint.Address}:${inst.Endpoint.Port ?? ''}` : undefined,
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
  srcRds: RdsAdapter,
  snap: Snapshot,
  target: IsolatedTarget,
  rp: RecoveryPointRef,
  purpose: 'validation' | 'restore',
  created: CreatedResource[],
): Promise<void> {
  if (purpose === 'validation' && !deps.policy.database?.shareWithIsolatedAccount) {
    const option = snap.kind === 'instance' ? '--db-snapshot-identifier' : '--db-cluster-snapshot-identifier';
    const cmd =
      snap.kind === 'instance' ? 'modify-db-snapshot-attribute' : 'modify-db-cluster-snapshot-attribute';
    created.push({
      type: SHARE_TYPES[snap.kind],
      id: snap.id,
      account: await deps.clients.accountId(),
      region: rp.region,
      cleanup: `aws rds ${cmd} ${option} ${snap.id} --attribute-name restore --values-to-remove ${target.accountId} --region ${rp.region}`,
    });
  }
  if ((await srcRds.sharedWith(snap, rp.region)).includes(target.accountId)) return;
  await srcRds.shareSnapshot(snap, target.accountId);
}

/**
 * Removes the isolated account from the `restore` attribute of source
 * snapshots that this run shared (recorded by shareForRun); run after the
 * isolated copy is gone or no longer needed. Source-account side of cleanup.
 */
export async function unshareAfterRun(deps: Deps, isolatedAccount: string, resources: CreatedResource[]) {
  const adapter = new RdsAdapter(deps.clients);
  for (const r of resources) {
    const kind = (Object.keys(SHARE_TYPES) as DatabaseKind[]).find((k) => SHARE_TYPES[k] === r.type);
    if (!kind) continue;
    const snap = await adapter.getSnapshot(kind, r.id, r.region);
    if (!snap) continue;
    if (!(await adapter.sharedWith(snap, r.region)).includes(isolatedAccount)) continue;
    await adapter.unshareSnapshot(snap, isolatedAccount, r.region);
  }
}

/** Aurora: copy the shared cluster snapshot, restore the cluster, add a writer, wait for both. */
async function restoreCluster(
  deps: Deps,
  target: IsolatedTarget,
  rp: RecoveryPointRef,
  snap: Snapshot,
  name: string,
  tags: TagMap,
  opts: RestoreOptions,
  rawOpts: Record<string, unknown> | undefined,
  created: CreatedResource[],
): Promise<{ endpoint?: string }> {
  const rds = target.clients.get(RDSClient, target.region);
  const source = await describeClusterSnapshot(deps.clients.get(RDSClient, rp.region), snap.id);
  if (!source) throw new Error(`cluster snapshot ${rp.id} disappeared`);

  // 2. The copy in the isolated account, re-encrypted with its key.
  const network = target.network?.dbSubnetGroup
    ? target.network
    : await ensureIsolatedNetwork(target.clients, target.region);
  const kmsKeyId =
    (rawOpts?.kmsKeyArn as string | undefined) ?? (await ensureIsolatedKey(target.clients, target.region));
  const existingCopy = await describeClusterSnapshot(rds, name);
  if (existingCopy) ours(fromTagList(existingCopy.TagList), opts.runId, `cluster snapshot ${name}`);
  created.push(
    resource(
      'AWS::RDS::DBClusterSnapshot',
      name,
      target,
      `aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier ${name} --region ${target.region}`,
    ),
  );
  if (!existingCopy) await copySharedCluster(target, source, name, kmsKeyId, tags);
  await waitFor(
    `cluster snapshot copy ${name}`,
    () => describeClusterSnapshot(rds, name),
    (s) => s.Status === 'available',
    (s) => s.Status === 'failed' || s.Status === 'error',
    opts,
    target.clients.timer,
  );

  // 3. The cluster, in the isolated subnet group with the isolated security group.
  const dbSg = (network as { dbSecurityGroupId?: string }).dbSecurityGroupId ?? network.securityGroupId;
  const existing = await describeCluster(rds, name);
  if (existing) ours(fromTagList(existing.TagList), opts.runId, `cluster ${name}`);
  created.push(
    resource(
      'AWS::RDS::DBCluster',
      name,
      target,
      `aws rds delete-db-cluster --db-cluster-identifier ${name} --skip-final-snapshot --region ${target.region}`,
    ),
  );
  if (!existing) {
    await rds.send(
      new RestoreDBClusterFromSnapshotCommand({
        DBClusterIdentifier: name,
        SnapshotIdentifier: name,
        Engine: source.Engine,
        EngineVersion: source.EngineVersion,
        DBSubnetGroupName: network.dbSubnetGroup,
        VpcSecurityGroupIds: [dbSg],
        KmsKeyId: kmsKeyId,
        DeletionProtection: false,
        CopyTagsToSnapshot: false,
        Tags: toTagList(tags),
      }),
    );
  }
  const cluster = await waitFor(
    `cluster ${name}`,
    () => describeCluster(rds, name),
    (c) => c.Status === 'available',
    (c) => ['failed', 'inaccessible-encryption-credentials', 'incompatible-restore'].includes(c.Status ?? ''),
    opts,
    target.clients.timer,
  );

  // 4. A writer instance of the same engine, not publicly accessible.
  const writer = clusterWriterName(name);
  const existingWriter = await describeInstance(rds, writer);
  if (existingWriter) ours(fromTagList(existingWriter.TagList), opts.runId, `database ${writer}`);
  created.push(
    resource(
      'AWS::RDS::DBInstance',
      writer,
      target,
      `aws rds delete-db-instance --db-instance-identifier ${writer} --skip-final-snapshot --region ${target.region}`,
    ),
  );
  if (!existingWriter) {
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: writer,
        DBClusterIdentifier: name,
        Engine: cluster.Engine ?? source.Engine,
        // Aurora has no micro classes; t4g.medium is the smallest for MySQL and PostgreSQL.
        DBInstanceClass: opts.instanceClass ?? 'db.t4g.medium',
        DBSubnetGroupName: network.dbSubnetGroup,
        PubliclyAccessible: false,
        AutoMinorVersionUpgrade: false,
        Tags: toTagList(tags),
      }),
    );
  }
  await waitFor(
    `database ${writer}`,
    () => describeInstance(rds, writer),
    (i) => i.DBInstanceStatus === 'available',
    (i) => ['failed', 'incompatible-restore', 'incompatible-parameters'].includes(i.DBInstanceStatus ?? ''),
    opts,
    target.clients.timer,
  );
  return { endpoint: cluster.Endpoint ? `${cluster.Endpoint}:${cluster.Port ?? ''}` : undefined };
}

/** The writer instance kura adds to a restored Aurora cluster. */
export function clusterWriterName(cluster: string): string {
  return `${cluster.slice(0, 60).replace(/-$/, '')}-w`;
}

const CLEANUP_ORDER = [
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBSnapshot',
  'AWS::RDS::DBClusterSnapshot',
];

async function cleanupDatabase(
  target: IsolatedTarget,
  resources: CreatedResource[],
  opts: { maxWaitSeconds?: number; pollSeconds?: number } = {},
): Promise<void> {
  const rds = target.clients.get(RDSClient, target.region);
  // Instances first, then the clusters they belonged to, then the snapshots they were restored from.
  // Shares (kura::RDS::*Share) live in the source account: unshareAfterRun removes them.
  const ordered = resources
    .filter((r) => CLEANUP_ORDER.includes(r.type))
    .sort((a, b) => CLEANUP_ORDER.indexOf(a.type) - CLEANUP_ORDER.indexOf(b.type));
  await removeEach(ordered, async (r) => {
    try {
      if (r.type === 'AWS::RDS::DBInstance') {
        const inst = await describeInstance(rds, r.id);
        if (!inst || inst.DBInstanceStatus === 'deleting') return;
        if (!isManaged(fromTagList(inst.TagList)))
          throw new Error(`refusing to delete ${r.id}: not kura-managed`);
        await rds.send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: r.id,
            SkipFinalSnapshot: true,
            DeleteAutomatedBackups: !inst.DBClusterIdentifier,
          }),
        );
      } else if (r.type === 'AWS::RDS::DBCluster') {
        const cluster = await describeCluster(rds, r.id);
        if (!cluster || cluster.Status === 'deleting') return;
        if (!isManaged(fromTagList(cluster.TagList)))
          throw new Error(`refusing to delete ${r.id}: not kura-managed`);
        // A cluster is deleted once its members are gone (an instance takes minutes to delete).
        const timer = target.clients.timer;
        const deadline = timer.now() + (opts.maxWaitSeconds ?? 600) * 1000;
        for (;;) {
          const c = await describeCluster(rds, r.id);
          if (!c) break;
          if ((c.DBClusterMembers ?? []).length === 0) {
            await rds.send(
              new DeleteDBClusterCommand({ DBClusterIdentifier: r.id, SkipFinalSnapshot: true }),
            );
            break;
          }
          if (timer.now() >= deadline)
            throw new NotReadyError(`cluster ${r.id} still has members being deleted; cleanup resumes`);
          await timer.sleep((opts.pollSeconds ?? 15) * 1000);
        }
      } else if (r.type === 'AWS::RDS::DBSnapshot') {
        const snap = await describeSnapshot(rds, r.id);
        if (!snap || snap.Status === 'deleting') return;
        if (!isManaged(fromTagList(snap.TagList)))
          throw new Error(`refusing to delete ${r.id}: not kura-managed`);
        await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: r.id }));
      } else if (r.type === 'AWS::RDS::DBClusterSnapshot') {
        const snap = await describeClusterSnapshot(rds, r.id);
        if (!snap || snap.Status === 'deleting') return;
        if (!isManaged(fromTagList(snap.TagList)))
          throw new Error(`refusing to delete ${r.id}: not kura-managed`);
        await rds.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: r.id }));
      }
    } catch (err) {
      // Already gone is clean.
      if (!isNotFound(err)) throw err;
    }
  });
}

export const databaseRestoreStep: RestoreStep = {
  class: 'database',
  list: listDatabase,
  restore: restoreDatabase,
  cleanup: cleanupDatabase,
};

/** The restored instance as the checks see it. */
export async function describeRestoredDatabase(
  clients: Clients,
  region: string,
  id: string,
): Promise<DBInstance | undefined> {
  return describeInstance(clients.get(RDSClient, region), id);
}

/** The restored Aurora cluster as the checks see it. */
export async function describeRestoredCluster(
  clients: Clients,
  region: string,
  id: string,
): Promise<DBCluster | undefined> {
  return describeCluster(clients.get(RDSClient, region), id);
}
