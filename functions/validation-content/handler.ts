// Lambda edge for `validation-content`: the validation Map's item states
// (restore, check, cleanup, chosen by the event's `step`) for one content item:
// a sample of the generation restored into the isolated bucket, checked against
// its manifest and the vault verify, then removed. Its bundle carries neither
// EC2 nor RDS. The plan runs in `validation-step`, the report in `validation-
// report`; the restore machine's yearly rehearsal checks its content items here
// too. It runs as ValidationContentRole (deploy/iam/validation-content.yml),
// with this class's permissions only.
import { taskHandler } from '../../shared/edge/lambda.ts';
import { validationItemTask } from '../../shared/edge/validation-item.ts';
import { contentItemPorts } from '../../shared/edge/validation-item-ports.ts';

/** The plain function tests, the local runner and `kura invoke` call. */
export const run = validationItemTask(contentItemPorts);

export const handler = taskHandler('validation-content', run);
