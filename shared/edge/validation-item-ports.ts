// Edge: the validation item states' ports, one builder per class
// (functions/validation-<class>), each with its own class's restore step,
// check and check adapters only, so that a class's bundle carries no other
// class's clients. Databases and servers get the isolated network, content and
// logs the isolated bucket; only the database function sweeps a run's stray
// databases and takes back the share of the source snapshot after its cleanup.
import { type ContentPort, S3ContentAdapter } from '../aws/content.ts';
import { readManifest, vaultContent } from '../aws/content-generations.ts';
import { ManagedSecretAccess } from '../aws/db-access.ts';
import type { Deps } from '../aws/deps.ts';
import { describeInstances, listIsolatedKeys, readFromIsolated } from '../aws/isolated-account.ts';
import { listManagedDatabases } from '../aws/isolated-leftovers.ts';
import { invokeInIsolated } from '../aws/probe-invoke.ts';
import { describeDbCluster, describeDbInstance } from '../aws/rds-restore.ts';
import {
  awsDatabaseRestorePorts,
  bucketTargetInfra,
  networkTargetInfra,
  type TargetInfraPort,
} from '../aws/restore-ports.ts';
import { S3RestoreStore } from '../aws/restore-store.ts';
import { VaultStore } from '../aws/vault-objects.ts';
import { unshareAfterRun } from '../restore/database.ts';
import { jobProgress, jobShards, jobTotals, type ShardProgress } from '../restore/content-shard-job.ts';
import { prepareIsolatedTarget } from '../restore/isolated-network.ts';
import type { RestoreClass, RestoreStep } from '../restore/types.ts';
import { InputError } from '../runtime/errors.ts';
import { verifyJob } from '../usecases/content-restore-shards.ts';
import type { ValidationItemPorts } from '../usecases/validation/records.ts';
import { checkContent } from '../validation/checks/content.ts';
import { checkDatabase } from '../validation/checks/database.ts';
import { checkImage } from '../validation/checks/image.ts';
import { checkLogs } from '../validation/checks/logs.ts';
import type {
  CheckPorts,
  ClassCheck,
  ContentCheckAdapters,
  DatabaseCheckAdapters,
  ImageCheckAdapters,
  LogsCheckAdapters,
} from '../validation/checks/types.ts';
import type { ProbeResponse } from '../validation/probe-runner.ts';
import {
  contentRestoreStep,
  databaseRestoreStep,
  imageRestoreStep,
  logsRestoreStep,
} from './restore-steps.ts';

/** `value` for an item of class `own`; an item of any other class is refused by name (the machine routes each class). */
function ownClass<T>(own: RestoreClass, value: T): (cls: RestoreClass) => Promise<T> {
  return async (cls) => {
    if (cls !== own)
      throw new InputError([`item of class ${cls}: this function validates ${own} items only`]);
    return value;
  };
}

/** One class's ports: its step and check, its adapters over `overrides`, the target its restores go into. */
function itemPorts<P>(
  deps: Deps,
  step: RestoreStep,
  check: ClassCheck<P>,
  checks: P,
  infra: TargetInfraPort,
): ValidationItemPorts<P> {
  return {
    vault: new VaultStore(deps.clients, deps.policy),
    step: ownClass(step.class, step),
    check: ownClass(step.class, check),
    checks,
    prepareTarget: (d) => prepareIsolatedTarget(d, infra),
  };
}

/** The database items: the SQL probes through the isolated account's probe runner, the stray sweep, the unshare. */
export function databaseItemPorts(
  deps: Deps,
  overrides: CheckPorts = {},
): ValidationItemPorts<DatabaseCheckAdapters> {
  const checks: DatabaseCheckAdapters = {
    probeRunner: {
      run: async (target, request) =>
        (await invokeInIsolated(
          target,
          deps.policy.isolatedAccount?.probeRunner ?? 'kura-probe-runner',
          request,
        )) as ProbeResponse,
    },
    dbAccess: new ManagedSecretAccess(),
    describeDatabase: (target, id) => describeDbInstance(target.clients, id, target.region),
    describeCluster: (target, id) => describeDbCluster(target.clients, id, target.region),
    ...overrides,
  };
  return {
    ...itemPorts(deps, databaseRestoreStep, checkDatabase, checks, networkTargetInfra),
    database: {
      listManaged: listManagedDatabases,
      unshare: (account, resources) =>
        unshareAfterRun(awsDatabaseRestorePorts.snapshots(deps.clients), account, resources),
    },
  };
}

/** The server items: instance state and placement in the isolated network. */
export function imageItemPorts(
  deps: Deps,
  overrides: CheckPorts = {},
): ValidationItemPorts<ImageCheckAdapters> {
  return itemPorts(
    deps,
    imageRestoreStep,
    checkImage,
    { describeInstances, ...overrides },
    networkTargetInfra,
  );
}

/** The content items: the restored sample against the manifest, and the vault verify of the whole generation. */
export function contentItemPorts(
  deps: Deps,
  overrides: CheckPorts = {},
): ValidationItemPorts<ContentCheckAdapters> {
  const content: ContentPort = new S3ContentAdapter(deps.clients);
  const checks: ContentCheckAdapters = {
    readObject: readFromIsolated,
    listKeys: listIsolatedKeys,
    contentManifest: (source, generation) => readManifest(content, deps.policy, source, generation),
    contentVerified: async (runId, source, generation) => {
      const job = verifyJob(runId, source, generation);
      const shards = await jobShards(vaultContent(content, deps.policy), job);
      const records = new S3RestoreStore(deps.clients, deps.policy.vault.bucket);
      const done = (await jobProgress(records, job, shards)).shards.filter((p) => p?.done) as ShardProgress[];
      const t = jobTotals(done);
      return {
        shards: shards.length,
        done: done.length,
        objects: t.objects,
        failureCount: t.failureCount,
        failures: t.failures,
      };
    },
    ...overrides,
  };
  return itemPorts(deps, contentRestoreStep, checkContent, checks, bucketTargetInfra);
}

/** The logs items: the restored bundle read back against its manifest. */
export function logsItemPorts(
  deps: Deps,
  overrides: CheckPorts = {},
): ValidationItemPorts<LogsCheckAdapters> {
  return itemPorts(
    deps,
    logsRestoreStep,
    checkLogs,
    { readObject: readFromIsolated, ...overrides },
    bucketTargetInfra,
  );
}
