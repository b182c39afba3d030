// Lambda edge for `validation-logs`: the validation Map's item states (restore,
// check, cleanup, chosen by the event's `step`) for one logs item: a bundle
// restored into the isolated bucket, read back against its manifest, then
// removed. Its bundle carries neither EC2 nor RDS. The plan runs in
// `validation-step`, the report in `validation-report`; the restore machine's
// yearly rehearsal checks its logs items here too. It runs as
// ValidationLogsRole (deploy/iam/validation-logs.yml), with this class's
// permissions only.
import { taskHandler } from '../../shared/edge/lambda.ts';
import { validationItemTask } from '../../shared/edge/validation-item.ts';
import { logsItemPorts } from '../../shared/edge/validation-item-ports.ts';

/** The plain function tests, the local runner and `kura invoke` call. */
export const run = validationItemTask(logsItemPorts);

export const handler = taskHandler('validation-logs', run);
