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
import { run as validationContentRun } from '../../functions/validation-content/handler.ts';
import { run as validationDatabaseRun } from '../../functions/validation-database/handler.ts';
import { run as validationImageRun } from '../../functions/validation-image/handler.ts';
import { run as validationLogsRun } from '../../functions/validation-logs/handler.ts';
import { run as validationReportRun } from '../../functions/validation-report/handler.ts';
import { run as validationStepRun } from '../../functions/validation-step/handler.ts';
import { asFunction, serviceInvokes } from './principals.ts';
import type { Deps } from '../../shared/aws/deps.ts';

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
// The validation Map's items, each class in its own function (statemachines/validation.asl.yml).
export const validationDatabase = asRole('validation-database', validationDatabaseRun, false);
export const validationImage = asRole('validation-image', validationImageRun, false);
export const validationContent = asRole('validation-content', validationContentRun, false);
export const validationLogs = asRole('validation-logs', validationLogsRun, false);
