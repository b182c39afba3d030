// Local runtime: kura's functions as the test suite and `kura demo` run them:
// each one with its own role's credentials (assumed by Lambda at the IAM front
// layer, when KURA_IAM_CONTROL names one), so that every request it makes is
// checked against its deployed policy, exactly as on AWS; a scheduled
// function's start is Scheduler invoking it with Scheduler's role.
import { run as amiBackupRun } from '../../functions/ami-backup/handler.ts';
import { run as contentBackupRun } from '../../functions/content-backup/handler.ts';
import { run as logArchiveRun } from '../../functions/log-archive/handler.ts';
import { run as logBundleRun } from '../../functions/log-bundle/handler.ts';
import { run as rdsSnapshotRun } from '../../functions/rds-snapshot/handler.ts';
import { run as restoreRun } from '../../functions/restore/handler.ts';
import { run as restoreContentRun } from '../../functions/restore-content/handler.ts';
import { run as restoreDatabaseRun } from '../../functions/restore-database/handler.ts';
import { run as restoreImageRun } from '../../functions/restore-image/handler.ts';
import { run as restoreLogsRun } from '../../functions/restore-logs/handler.ts';
import { run as validationContentRun } from '../../functions/validation-content/handler.ts';
import { run as validationDatabaseRun } from '../../functions/validation-database/handler.ts';
import { run as validationImageRun } from '../../functions/validation-image/handler.ts';
import { run as validationLogsRun } from '../../functions/validation-logs/handler.ts';
import { run as validationReportRun } from '../../functions/validation-report/handler.ts';
import { run as validationStepRun } from '../../functions/validation-step/handler.ts';
import { asFunction, serviceInvokes } from './principals.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import type { RestoreClass } from '../../shared/restore/types.ts';

/** `run` of function `fn`, invoked by Scheduler (scheduled functions) and run as the function's role. */
function asRole<E, R, X extends unknown[]>(
  fn: string,
  run: (event: E, deps: Deps, ...rest: X) => Promise<R>,
  scheduled: boolean,
) {
  return async (event: E, deps: Deps, ...rest: X): Promise<R> => {
    if (scheduled) await serviceInvokes('scheduler', 'scheduler', fn, deps.policy);
    return run(event, await asFunction(fn, deps), ...rest);
  };
}

export const rdsSnapshot = asRole('rds-snapshot', rdsSnapshotRun, true);
export const amiBackup = asRole('ami-backup', amiBackupRun, true);
export const contentBackup = asRole('content-backup', contentBackupRun, false);
export const logArchive = asRole('log-archive', logArchiveRun, true);
// Started by its state machine (statemachines/log-bundle.asl.yml), which the schedule starts, as content-backup is.
export const logBundle = asRole('log-bundle', logBundleRun, false);
export const restore = asRole('restore', restoreRun, false);
export const validationStep = asRole('validation-step', validationStepRun, false);
export const validationReport = asRole('validation-report', validationReportRun, false);

// Which function runs a piece of the restore on AWS, in one place: a test that
// drives a use case directly (not through a function) acts as the role that
// makes those calls on AWS, so each call is checked against that role's policy.

/** The function of each class's items in the restore machine (statemachines/restore.asl.yml routes them). */
export const RESTORE_ITEM_FUNCTIONS: Record<RestoreClass, string> = {
  database: 'restore-database',
  image: 'restore-image',
  content: 'restore-content',
  logs: 'restore-logs',
};

const ITEM_RUNS: Record<RestoreClass, (event: unknown, deps: Deps) => Promise<unknown>> = {
  database: restoreDatabaseRun,
  image: restoreImageRun,
  content: restoreContentRun,
  logs: restoreLogsRun,
};

/** The restore machine's item task of class `cls`, run as that class's function's role. */
export function restoreItemOf(cls: RestoreClass): (event: unknown, deps: Deps) => Promise<unknown> {
  return asRole(RESTORE_ITEM_FUNCTIONS[cls], ITEM_RUNS[cls], false);
}

/** Deps of the restore machine's plan, approval and report (listings, pre-flight, sealed records): `restore`. */
export function asRestorePlan(deps: Deps): Promise<Deps> {
  return asFunction('restore', deps);
}

/** Deps of an on-call restore of one class's item (its restore step, purpose `restore`): `restore-<class>`. */
export function asRestoreItem(cls: RestoreClass, deps: Deps): Promise<Deps> {
  return asFunction(RESTORE_ITEM_FUNCTIONS[cls], deps);
}

/** The function of each class's items in the validation machine (statemachines/validation.asl.yml routes them). */
export const VALIDATION_ITEM_FUNCTIONS: Record<RestoreClass, string> = {
  database: 'validation-database',
  image: 'validation-image',
  content: 'validation-content',
  logs: 'validation-logs',
};

/**
 * Deps of the validation machine's restore of a class (its restore step, purpose `validation`,
 * the isolated target it prepares): `validation-<class>`.
 */
export function asValidationRestore(cls: RestoreClass, deps: Deps): Promise<Deps> {
  return asFunction(VALIDATION_ITEM_FUNCTIONS[cls], deps);
}

// The validation Map's items, each class in the function the machine routes it to.
export const validationDatabase = asRole(VALIDATION_ITEM_FUNCTIONS.database, validationDatabaseRun, false);
export const validationImage = asRole(VALIDATION_ITEM_FUNCTIONS.image, validationImageRun, false);
export const validationContent = asRole(VALIDATION_ITEM_FUNCTIONS.content, validationContentRun, false);
export const validationLogs = asRole(VALIDATION_ITEM_FUNCTIONS.logs, validationLogsRun, false);
