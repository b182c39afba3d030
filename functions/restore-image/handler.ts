// Lambda edge for `restore-image`: the restore state machine's item task for
// the image class (a server from its AMI). Its bundle carries this class's
// adapters only; the plan, approval and report run in `restore`. It runs as
// RestoreImageRole (deploy/iam/restore-image.yml), with this class's
// permissions only.
import { taskHandler } from '../../shared/edge/lambda.ts';
import { restoreItemTask } from '../../shared/edge/restore-item.ts';
import { awsImageItemPorts } from '../../shared/edge/restore-ports.ts';

/** The plain function tests, the local runner and `kura invoke` call. */
export const run = restoreItemTask(awsImageItemPorts);

export const handler = taskHandler('restore-image', run);
