// Lambda edge for `restore-logs`: the restore state machine's item task for the
// logs class (a day range or a bundle). Its bundle carries S3, KMS and STS
// only; the plan, approval and report run in `restore`. It runs as
// RestoreLogsRole (deploy/iam/restore-logs.yml), with this class's permissions
// only.
import { taskHandler } from '../../shared/edge/lambda.ts';
import { restoreItemTask } from '../../shared/edge/restore-item.ts';
import { logsRestoreStep } from '../../shared/edge/restore-steps.ts';
import { awsObjectItemPorts } from '../../shared/edge/restore-ports.ts';

/** The plain function tests, the local runner and `kura invoke` call. */
export const run = restoreItemTask((deps) => awsObjectItemPorts(deps, logsRestoreStep));

export const handler = taskHandler('restore-logs', run);
