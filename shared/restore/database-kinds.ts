// Restore (database class): what differs between an RDS instance and an
// Aurora cluster. The flow (share, copy, restore, wait, clean up) is one, in
// database.ts; each kind says which resources its restore creates, in which
// order, how RDS names their states and how each is removed again.
import type { DatabaseKind, Snapshot } from '../aws/rds.ts';
import type { RdsResource, RdsRestorePort } from '../aws/rds-restore.ts';
import type { IsolatedNetworkRef } from '../aws/restore-ports.ts';
import { RUN_TAG } from '../domain/isolated-account.ts';
import { isManaged, type TagMap } from '../domain/tags.ts';
import { NotReadyError } from '../runtime/errors.ts';
import type { Timer } from '../runtime/timer.ts';
import type { CreatedResource, IsolatedTarget } from './types.ts';

export { RUN_TAG };

export interface WaitOptions {
  /** Wait in-process this long, then NotReadyError (the state machine retries). */
  maxWaitSeconds?: number;
  pollSeconds?: number;
}

/** What one restore carries from stage to stage. */
export interface StageContext {
  rds: RdsRestorePort;
  target: IsolatedTarget;
  runId: string;
  /** Everything that exists because of this restore, in creation order. */
  created: CreatedResource[];
  wait: WaitOptions;
  timer: Timer;
}

/** One resource a restore creates: found again (resume) or created, then waited for. */
interface Stage<T extends { status: string; tags: TagMap }> {
  type: string;
  id: string;
  /** Names it in the refusal to adopt a resource another run made. */
  what: string;
  /** Names it while waiting. */
  waitingFor: string;
  cleanup: string;
  get(): Promise<T | undefined>;
  create(): Promise<void>;
  failed: string[];
}

export async function waitFor<T extends { status: string }>(
  what: string,
  get: () => Promise<T | undefined>,
  failed: string[],
  opts: WaitOptions,
  timer: Timer,
): Promise<T> {
  const deadline = timer.now() + (opts.maxWaitSeconds ?? 600) * 1000;
  for (;;) {
    const t = await get();
    if (t === undefined) throw new Error(`${what} disappeared while waiting for it`);
    if (t.status === 'available') return t;
    if (failed.includes(t.status)) throw new Error(`${what} failed: ${JSON.stringify(t).slice(0, 300)}`);
    if (timer.now() >= deadline)
      throw new NotReadyError(`${what} is not available yet; the run resumes where it stopped`);
    await timer.sleep((opts.pollSeconds ?? 15) * 1000);
  }
}

/** Finds (only when this run made it) or creates the stage's resource, records it, waits until available. */
export async function ensure<T extends { status: string; tags: TagMap }>(
  ctx: StageContext,
  s: Stage<T>,
): Promise<T> {
  const existing = await s.get();
  if (existing && (!isManaged(existing.tags) || existing.tags[RUN_TAG] !== ctx.runId)) {
    throw new Error(
      `${s.what} already exists in the isolated account and was not made by run ${ctx.runId}; refusing to adopt or replace it`,
    );
  }
  ctx.created.push({
    type: s.type,
    id: s.id,
    account: ctx.target.accountId,
    region: ctx.target.region,
    cleanup: s.cleanup,
  });
  if (!existing) await s.create();
  return waitFor(s.waitingFor, s.get, s.failed, ctx.wait, ctx.timer);
}

export interface KindRestoreInput {
  /** The restored database's (and the snapshot copy's) name. */
  name: string;
  /** The source snapshot, shared with the isolated account. */
  source: Snapshot;
  network: IsolatedNetworkRef;
  kmsKeyId: string;
  tags: TagMap;
  instanceClass?: string;
}

export interface DatabaseKindStrategy {
  /** The CloudFormation type of its snapshots, and the word for one. */
  snapshotType: string;
  snapshotWord: string;
  /** The AWS CLI words that delete one of its snapshots, and name one in an attribute change. */
  snapshotCli: { delete: string; modifyAttribute: string; option: string };
  /** Resource type of a share of a source snapshot with the isolated account (it lives in the source account). */
  shareType: string;
  /** Restores the database from the copy named `input.name`; answers its endpoint. */
  restore(ctx: StageContext, input: KindRestoreInput): Promise<string | undefined>;
}

const INSTANCE_FAILED = ['failed', 'incompatible-restore', 'incompatible-parameters'];

/** The writer instance kura adds to a restored Aurora cluster. */
export function clusterWriterName(cluster: string): string {
  return `${cluster.slice(0, 60).replace(/-$/, '')}-w`;
}

function instanceStage(ctx: StageContext, id: string, cleanup: string, create: () => Promise<void>) {
  return {
    type: 'AWS::RDS::DBInstance',
    id,
    what: `database ${id}`,
    waitingFor: `database ${id}`,
    cleanup: `aws rds delete-db-instance --db-instance-identifier ${id} --skip-final-snapshot${cleanup} --region ${ctx.target.region}`,
    get: () => ctx.rds.getInstance(id),
    create,
  };
}

const dbSecurityGroup = (network: IsolatedNetworkRef) => network.dbSecurityGroupId ?? network.securityGroupId;

export const DATABASE_KINDS: Record<DatabaseKind, DatabaseKindStrategy> = {
  instance: {
    snapshotType: 'AWS::RDS::DBSnapshot',
    snapshotWord: 'snapshot',
    snapshotCli: {
      delete: 'delete-db-snapshot --db-snapshot-identifier',
      modifyAttribute: 'modify-db-snapshot-attribute',
      option: '--db-snapshot-identifier',
    },
    shareType: 'kura::RDS::DBSnapshotShare',
    async restore(ctx, input) {
      // Not publicly accessible, in the isolated subnet group.
      const inst = await ensure(ctx, {
        ...instanceStage(ctx, input.name, ' --delete-automated-backups', () =>
          ctx.rds.restoreInstance({
            id: input.name,
            snapshotId: input.name,
            instanceClass: input.instanceClass ?? 'db.t4g.micro',
            subnetGroup: input.network.dbSubnetGroup,
            securityGroupId: dbSecurityGroup(input.network),
            tags: input.tags,
          }),
        ),
        failed: [...INSTANCE_FAILED, 'storage-full'],
      });
      return inst.endpoint;
    },
  },
  cluster: {
    snapshotType: 'AWS::RDS::DBClusterSnapshot',
    snapshotWord: 'cluster snapshot',
    snapshotCli: {
      delete: 'delete-db-cluster-snapshot --db-cluster-snapshot-identifier',
      modifyAttribute: 'modify-db-cluster-snapshot-attribute',
      option: '--db-cluster-snapshot-identifier',
    },
    shareType: 'kura::RDS::DBClusterSnapshotShare',
    async restore(ctx, input) {
      const { name, source, network } = input;
      // The cluster, in the isolated subnet group with the isolated security group.
      const cluster = await ensure(ctx, {
        type: 'AWS::RDS::DBCluster',
        id: name,
        what: `cluster ${name}`,
        waitingFor: `cluster ${name}`,
        cleanup: `aws rds delete-db-cluster --db-cluster-identifier ${name} --skip-final-snapshot --region ${ctx.target.region}`,
        get: () => ctx.rds.getCluster(name),
        create: () =>
          ctx.rds.restoreCluster({
            id: name,
            snapshotId: name,
            engine: source.engine,
            engineVersion: source.engineVersion,
            subnetGroup: network.dbSubnetGroup,
            securityGroupId: dbSecurityGroup(network),
            kmsKeyId: input.kmsKeyId,
            tags: input.tags,
          }),
        failed: ['failed', 'inaccessible-encryption-credentials', 'incompatible-restore'],
      });
      // A writer instance of the same engine, not publicly accessible.
      const writer = clusterWriterName(name);
      await ensure(ctx, {
        ...instanceStage(ctx, writer, '', () =>
          ctx.rds.createClusterWriter({
            id: writer,
            clusterId: name,
            engine: cluster.engine ?? source.engine,
            // Aurora has no micro classes; t4g.medium is the smallest for MySQL and PostgreSQL.
            instanceClass: input.instanceClass ?? 'db.t4g.medium',
            subnetGroup: network.dbSubnetGroup,
            tags: input.tags,
          }),
        ),
        failed: INSTANCE_FAILED,
      });
      return cluster.endpoint;
    },
  },
};

/** Copies the snapshot shared with the isolated account into it, re-encrypted with the isolated key. */
export function ensureCopy(
  ctx: StageContext,
  kind: DatabaseKind,
  input: KindRestoreInput,
): Promise<Snapshot> {
  const k = DATABASE_KINDS[kind];
  const { name } = input;
  return ensure(ctx, {
    type: k.snapshotType,
    id: name,
    what: `${k.snapshotWord} ${name}`,
    waitingFor: `${k.snapshotWord} copy ${name}`,
    cleanup: `aws rds ${k.snapshotCli.delete} ${name} --region ${ctx.target.region}`,
    get: () => ctx.rds.getSnapshot(kind, name),
    create: () => ctx.rds.copyShared(input.source, name, input.kmsKeyId, input.tags),
    failed: ['failed', 'error'],
  });
}

/** Removing one kind of resource a restore created: read it, then delete it when it is kura's. */
interface Remover {
  get(rds: RdsRestorePort, id: string): Promise<RdsResource | Snapshot | undefined>;
  remove(
    rds: RdsRestorePort,
    found: RdsResource | Snapshot,
    ctx: WaitOptions & { timer: Timer },
  ): Promise<void>;
}

/**
 * Instances first, then the clusters they belonged to, then the snapshots they
 * were restored from. Shares (kura::RDS::*Share) live in the source account:
 * unshareAfterRun removes them.
 */
export const REMOVERS: [string, Remover][] = [
  [
    'AWS::RDS::DBInstance',
    {
      get: (rds, id) => rds.getInstance(id),
      remove: (rds, i) => rds.deleteInstance(i.id, { deleteAutomatedBackups: !(i as RdsResource).clusterId }),
    },
  ],
  [
    'AWS::RDS::DBCluster',
    {
      get: (rds, id) => rds.getCluster(id),
      // A cluster is deleted once its members are gone (an instance takes minutes to delete).
      async remove(rds, c, { timer, maxWaitSeconds, pollSeconds }) {
        const deadline = timer.now() + (maxWaitSeconds ?? 600) * 1000;
        for (;;) {
          const now = await rds.getCluster(c.id);
          if (!now) return;
          if (!now.memberCount) return rds.deleteCluster(c.id);
          if (timer.now() >= deadline)
            throw new NotReadyError(`cluster ${c.id} still has members being deleted; cleanup resumes`);
          await timer.sleep((pollSeconds ?? 15) * 1000);
        }
      },
    },
  ],
  [
    'AWS::RDS::DBSnapshot',
    {
      get: (rds, id) => rds.getSnapshot('instance', id),
      remove: (rds, s) => rds.deleteSnapshot('instance', s.id),
    },
  ],
  [
    'AWS::RDS::DBClusterSnapshot',
    {
      get: (rds, id) => rds.getSnapshot('cluster', id),
      remove: (rds, s) => rds.deleteSnapshot('cluster', s.id),
    },
  ],
];
