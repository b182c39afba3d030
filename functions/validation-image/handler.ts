// Lambda edge for `validation-image`: the validation Map's item states
// (restore, check, cleanup, chosen by the event's `step`) for one server item:
// its launch from its AMI in the isolated network, the instance checks, its
// cleanup. Its bundle carries no other class's restore or check. The plan runs
// in `validation-step`, the report in `validation-report`; the restore
// machine's yearly rehearsal checks its image items here too. It runs as
// ValidationImageRole (deploy/iam/validation-image.yml), with this class's
// permissions only.
import { taskHandler } from '../../shared/edge/lambda.ts';
import { validationItemTask } from '../../shared/edge/validation-item.ts';
import { imageItemPorts } from '../../shared/edge/validation-item-ports.ts';

/** The plain function tests, the local runner and `kura invoke` call. */
export const run = validationItemTask(imageItemPorts);

export const handler = taskHandler('validation-image', run);
