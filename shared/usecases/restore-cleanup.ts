// Use case: `kura restore cleanup <id>`. Removes everything one orchestrated
// restore made, in every account, with the right credentials: in the isolated
// account through the policy's restore role (assumed by kura itself, so the
// command works pasted with production credentials), in the source account
// (temporary point-in-time resources, snapshot shares) with kura's own. What
// is removed is what the restore recorded plus anything in the isolated
// account tagged with its id; only kura-managed resources are ever touched.
// Then each one is read again, and the result says what was removed.
import type { RdsPitrPort } from '../aws/rds-pitr.ts';
import type { RestoreStorePort } from '../aws/restore-store.ts';
import { cleanupPitr } from '../restore/database-pitr.ts';
import type { LeftoversPort } from '../aws/isolated-leftovers.ts';
import { SHARE_TYPES } from '../restore/database.ts';
import { type LiveResource, liveState } from '../restore/live-state.ts';
import type { ItemRecord, RestoreReport } from '../restore/plan.ts';
import type { CreatedResource, IsolatedTarget, RestoreClass, RestoreCleanup } from '../restore/types.ts';
import { InputError, NotReadyError } from '../runtime/errors.ts';
import type { Deps } from '../aws/deps.ts';
import { errorInfo } from '../runtime/result.ts';
import type { Timer } from '../runtime/timer.ts';
import { type RestoreState, readRecords } from './restore.ts';

/** What the cleanup receives (shared/edge/restore-ports.ts binds them to AWS). */
export interface CleanupPorts {
  /** The restores' records in the vault. */
  store: RestoreStorePort;
  /** Each class's restore step (its cleanup, all that is used here): it removes what it made. */
  step(cls: RestoreClass): Promise<RestoreCleanup>;
  /** The point-in-time path's temporary resources in the source account. */
  pitr: RdsPitrPort;
  /** The isolated account, through the policy's restore role. */
  connect(deps: Deps): Promise<IsolatedTarget>;
  /** What carries the restore's id there, whether each resource still exists, stray volumes removed. */
  leftovers: LeftoversPort;
  /** Removes the isolated account from the source snapshots the run shared with it. */
  unshare(isolatedAccount: string, resources: CreatedResource[]): Promise<void>;
}

/** The classes whose steps remove what they made, in this order (databases before what they stand on). */
const CLEANUP_ORDER: RestoreClass[] = ['database', 'image', 'content', 'logs'];

export const REQUEST_ID = /^[a-z0-9][a-z0-9-]{2,23}$/;

export interface CleanupPlan {
  requestId: string;
  state: RestoreState;
  target: IsolatedTarget;
  records: ItemRecord[];
  /** Everything the restore made, with whether it exists now. */
  resources: LiveResource[];
}

export interface CleanupEntry extends CreatedResource {
  result: 'removed' | 'already gone' | 'still there' | 'failed';
  detail?: string;
}

export interface CleanupResult {
  requestId: string;
  at: string;
  removed: number;
  alreadyGone: number;
  remaining: number;
  entries: CleanupEntry[];
}

const key = (r: CreatedResource) => `${r.account} ${r.type} ${r.id}`;

function commandFor(r: { type: string; id: string; region: string }): string {
  const region = `--region ${r.region}`;
  switch (r.type) {
    case 'AWS::RDS::DBInstance':
      return `aws rds delete-db-instance --db-instance-identifier ${r.id} --skip-final-snapshot ${region}`;
    case 'AWS::RDS::DBSnapshot':
      return `aws rds delete-db-snapshot --db-snapshot-identifier ${r.id} ${region}`;
    case 'AWS::RDS::DBCluster':
      return `aws rds delete-db-cluster --db-cluster-identifier ${r.id} --skip-final-snapshot ${region}`;
    case 'AWS::RDS::DBClusterSnapshot':
      return `aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier ${r.id} ${region}`;
    case 'AWS::EC2::Instance':
      return `aws ec2 terminate-instances --instance-ids ${r.id} ${region}`;
    case 'AWS::EC2::Volume':
      return `aws ec2 delete-volume --volume-id ${r.id} ${region}`;
    default:
      return '';
  }
}

/** Read only: what the restore made, from its records and from the isolated account's tags, and what exists now. */
export async function planCleanup(
  deps: Deps,
  requestId: string,
  ports: Pick<CleanupPorts, 'store' | 'connect' | 'leftovers'>,
): Promise<CleanupPlan> {
  const { store } = ports;
  if (!REQUEST_ID.test(requestId))
    throw new InputError([
      `<id>: found "${requestId}"; expected a restore id (a-z, 0-9, -; 3 to 24 characters) as kura restore list shows it`,
    ]);
  const state = await store.get<RestoreState>(requestId, 'state.json');
  if (!state)
    throw new InputError([
      `restore ${requestId}: not found in s3://${deps.policy.vault.bucket}/restores/; see kura restore list`,
    ]);
  const records = await readRecords(requestId, store);
  const report = await store.get<RestoreReport>(requestId, 'report.json');
  const target = await ports.connect(deps);
  const all = new Map<string, CreatedResource>();
  const add = (r: CreatedResource) => all.set(key(r), { ...r, cleanup: r.cleanup || commandFor(r) });
  for (const r of report?.exists ?? []) add(r);
  for (const rec of records) {
    for (const r of rec.restored?.resources ?? []) add(r);
    for (const r of rec.leftovers ?? []) add(r);
    for (const t of rec.temporary ?? []) if (!t.removed) add(t);
  }
  // Whatever carries the restore's id in the isolated account, recorded or not (a step that died mid-way).
  for (const l of await ports.leftovers.listManaged(target, requestId))
    add({ type: l.type, id: l.id, account: target.accountId, region: target.region, cleanup: '' });
  const live = await liveState(deps, [...all.values()], ports.leftovers, target);
  return { requestId, state, target, records, resources: live.resources };
}

/** Calls `what` until AWS has finished what it waits for (NotReadyError), pausing on the Clients' timer. */
async function withWaits(
  what: () => Promise<void>,
  onWait: (m: string) => void,
  timer: Timer,
  deadline: number,
): Promise<void> {
  for (;;) {
    try {
      return await what();
    } catch (err) {
      if (!(err instanceof NotReadyError) || timer.now() > deadline) throw err;
      onWait(err.message);
      await timer.sleep((err.hint.waitSeconds ?? 15) * 1000);
    }
  }
}

/** Removes what the plan found, then reads each resource again; records the outcome in the vault. */
export async function runCleanup(
  deps: Deps,
  plan: CleanupPlan,
  ports: CleanupPorts,
  opts: {
    now?: () => Date;
    onProgress?: (line: string) => void;
    maxWaitSeconds?: number;
  } = {},
): Promise<CleanupResult> {
  const timer = deps.clients.timer;
  const now = opts.now ?? (() => new Date(timer.now()));
  const progress = opts.onProgress ?? (() => {});
  const { store } = ports;
  const deadline = timer.now() + (opts.maxWaitSeconds ?? 1800) * 1000;
  const failures = new Map<string, string>();
  const there = plan.resources.filter((r) => r.exists !== false);
  const isolated = there.filter((r) => r.account === plan.target.accountId);
  // Each class's step removes the types it made (databases before their snapshots, instances, prefixes).
  for (const cls of CLEANUP_ORDER) {
    const step = await ports.step(cls);
    try {
      await withWaits(
        () => step.cleanup(plan.target, isolated),
        (m) => progress(`  … ${m}`),
        timer,
        deadline,
      );
    } catch (err) {
      const e = errorInfo(err);
      for (const r of isolated) if (e.message.includes(r.id)) failures.set(key(r), e.message);
      progress(`  ! ${cls}: ${e.message}`);
    }
  }
  // Volumes left by an instance that did not delete them on termination.
  for (const v of isolated.filter((r) => r.type === 'AWS::EC2::Volume')) {
    try {
      await ports.leftovers.deleteVolume(plan.target, v.id);
    } catch (err) {
      failures.set(key(v), errorInfo(err).message);
    }
  }
  // The source account: temporary point-in-time resources and the shares of source snapshots.
  for (const rec of plan.records.filter((r) => r.temporary?.some((t) => !t.removed))) {
    try {
      await cleanupPitr(ports.pitr, rec);
    } catch (err) {
      for (const t of rec.temporary ?? []) failures.set(key(t), errorInfo(err).message);
    }
  }
  const shares = there.filter((r) => Object.values(SHARE_TYPES).includes(r.type));
  if (shares.length) await ports.unshare(plan.target.accountId, shares);
  // Read again: the result says what is gone, not what was asked for.
  const after = await liveState(deps, plan.resources, ports.leftovers, plan.target);
  const entries: CleanupEntry[] = after.resources.map(({ exists, error, ...r }) => {
    const before = plan.resources.find((p) => key(p) === key(r));
    if (before?.exists === false) return { ...r, result: 'already gone' };
    const failed = failures.get(key(r));
    if (failed) return { ...r, result: 'failed', detail: failed };
    if (exists === false) return { ...r, result: 'removed' };
    // A share is gone when the source snapshot no longer names the isolated account (read by unshareAfterRun).
    if (exists === undefined && Object.values(SHARE_TYPES).includes(r.type))
      return { ...r, result: 'removed' };
    return {
      ...r,
      result: 'still there',
      detail: error ?? 'being deleted, or not removable by kura: run again later',
    };
  });
  const at = now().toISOString();
  const result: CleanupResult = {
    requestId: plan.requestId,
    at,
    removed: entries.filter((e) => e.result === 'removed').length,
    alreadyGone: entries.filter((e) => e.result === 'already gone').length,
    remaining: entries.filter((e) => e.result === 'still there' || e.result === 'failed').length,
    entries,
  };
  await store.put(plan.requestId, 'cleanup.json', result);
  const state: RestoreState = {
    ...plan.state,
    status: result.remaining === 0 ? 'CLEANED' : plan.state.status,
    updatedAt: at,
    cleanup: { at, removed: result.removed, remaining: result.remaining },
  };
  await store.put(plan.requestId, 'state.json', state);
  return result;
}
