// Edge: the orchestrated restore's ports (the restore state machine's tasks,
// `kura restore` and its cleanup and export) bound to the AWS adapters, built
// from a run's Deps. The restore Lambda (functions/restore) and the CLI
// (cli/restore/*) compose through here; the use cases build no adapter.
import type { Deps } from '../aws/deps.ts';
import { AwsExportObjects } from '../aws/export-objects.ts';
import { S3FirstPointLedger } from '../aws/first-points.ts';
import { KmsAdapter } from '../aws/kms.ts';
import { awsPreflightPorts } from '../aws/preflight.ts';
import { originLatestRestorableTime, pitrWindow, RdsPitrAdapter } from '../aws/rds-pitr.ts';
import { backedUpDatabases } from '../aws/rds-sources.ts';
import { awsLeftovers, objectStillExists, serverStillExists } from '../aws/isolated-leftovers.ts';
import {
  awsDatabaseRestorePorts,
  awsIsolatedAccess,
  awsTargetInfra,
  bucketTargetInfra,
  networkTargetInfra,
} from '../aws/restore-ports.ts';
import { type RestoreStorePort, S3RestoreStore } from '../aws/restore-store.ts';
import { vaultLock } from '../aws/vault-lock.ts';
import { tolerate } from '../runtime/aws-errors.ts';
import { connectIsolated, prepareIsolatedTarget } from '../restore/isolated-network.ts';
import { restoreCleanup } from './restore-cleanups.ts';
import { restoreListing } from './restore-listings.ts';
import { unshareAfterRun } from '../restore/database.ts';
import { databaseRestoreStep, imageRestoreStep, restoreStep } from './restore-steps.ts';
import { InputError } from '../runtime/errors.ts';
import type { RestoreClass, RestoreStep } from '../restore/types.ts';
import { mysqlSource } from '../restore/sql-dump.ts';
import type { RestoreItemPorts, RestorePlanPorts, RestorePorts } from '../usecases/restore.ts';
import type { CleanupPorts } from '../usecases/restore-cleanup.ts';
import type { ExportPorts } from '../usecases/restore-export.ts';

/** The restores' records in the vault (restores/<id>/), each write stating the vault's Object Lock. */
export function restoreStore(deps: Deps): RestoreStorePort {
  return new S3RestoreStore(deps.clients, deps.policy.vault.bucket, vaultLock(deps.policy));
}

/** The plan task's ports (and approval's and report's): listings, pre-flight, the store. */
export function awsRestorePlanPorts(deps: Deps): RestorePlanPorts {
  const ledger = new S3FirstPointLedger(deps.clients, deps.policy);
  return {
    store: restoreStore(deps),
    listing: restoreListing,
    preflight: awsPreflightPorts(deps.clients, new KmsAdapter(deps.clients), (i) =>
      pitrWindow(deps.clients, i),
    ),
    latestRestorableTime: (source, origin) =>
      originLatestRestorableTime(deps.clients, deps.policy, source, origin),
    connect: connectIsolated,
    // No vault yet means no records; any other refusal is named by the caller's error.
    firstPoints: async () => [...(await tolerate(['notFound'], () => ledger.readAll(), new Map())).values()],
    backedUpDatabases: (gone) => backedUpDatabases(deps.clients, deps.policy, gone),
  };
}

/** The item task's ports over the restore steps `step` gives (every class's: the CLI, one process). */
export function awsRestoreItemPorts(
  deps: Deps,
  step: (cls: RestoreClass) => Promise<RestoreStep>,
): RestoreItemPorts {
  return {
    store: restoreStore(deps),
    step,
    pitr: new RdsPitrAdapter(deps.clients),
    connect: connectIsolated,
    prepareTarget: (d) => prepareIsolatedTarget(d, awsTargetInfra),
    access: (target) => awsIsolatedAccess(target.clients, target.region),
    leftovers: awsLeftovers,
  };
}

/** Every task's ports with every class (the CLI, which runs in one process). */
export function awsRestorePorts(deps: Deps): RestorePorts {
  return { ...awsRestorePlanPorts(deps), ...awsRestoreItemPorts(deps, restoreStep) };
}

/** A function's one step: any other class's item is refused by name (the state machine routes each class). */
export function onlyStep(own: RestoreStep): (cls: RestoreClass) => Promise<RestoreStep> {
  return async (cls) => {
    if (cls !== own.class)
      throw new InputError([`item of class ${cls}: this function restores ${own.class} items only`]);
    return own;
  };
}

// One function per class (functions/restore-<class>): each item function's
// ports hold its own class's adapters only. The database function alone has
// the point-in-time path; databases and servers get the isolated network and
// the on-call route; content and logs the isolated bucket and nothing of EC2
// or RDS (their resources are objects: objectStillExists).

/** The database items' ports: the step, point in time, the network and the route in. */
export function awsDatabaseItemPorts(deps: Deps): RestoreItemPorts {
  return {
    ...awsRestoreItemPorts(deps, onlyStep(databaseRestoreStep)),
    prepareTarget: (d) => prepareIsolatedTarget(d, networkTargetInfra),
  };
}

/** The server items' ports: the step, the network and the route in. */
export function awsImageItemPorts(deps: Deps): RestoreItemPorts {
  return {
    store: restoreStore(deps),
    step: onlyStep(imageRestoreStep),
    connect: connectIsolated,
    prepareTarget: (d) => prepareIsolatedTarget(d, networkTargetInfra),
    access: (target) => awsIsolatedAccess(target.clients, target.region),
    leftovers: { stillExists: serverStillExists },
  };
}

/** The object classes' items (content, logs): the step and the isolated bucket. */
export function awsObjectItemPorts(deps: Deps, step: RestoreStep): RestoreItemPorts {
  return {
    store: restoreStore(deps),
    step: onlyStep(step),
    connect: connectIsolated,
    prepareTarget: (d) => prepareIsolatedTarget(d, bucketTargetInfra),
    leftovers: { stillExists: objectStillExists },
  };
}

export function awsCleanupPorts(deps: Deps): CleanupPorts {
  return {
    store: restoreStore(deps),
    // Each class's cleanup alone: the rehearsal's cleanup (validation-step) restores nothing.
    step: restoreCleanup,
    pitr: new RdsPitrAdapter(deps.clients),
    connect: connectIsolated,
    leftovers: awsLeftovers,
    unshare: (account, resources) =>
      unshareAfterRun(awsDatabaseRestorePorts.snapshots(deps.clients), account, resources),
  };
}

export function awsExportPorts(deps: Deps): ExportPorts {
  return {
    store: restoreStore(deps),
    connect: connectIsolated,
    openDatabase: mysqlSource,
    own: new AwsExportObjects(deps.clients, undefined, vaultLock(deps.policy)),
    isolated: (target) => new AwsExportObjects(target.clients, target.region),
  };
}
