// Lambda edge for `validation-database`: the validation Map's item states
// (restore, check, cleanup, chosen by the event's `step`) for one database item
// (an instance or an Aurora cluster): its restore into the isolated account,
// its checks and SQL probes (through the isolated account's probe runner), and
// its cleanup with the sweep of the run's stray databases and the share taken
// back. Its bundle carries RDS, and EC2 for the isolated network, and no other
// class's restore or check. The plan runs in `validation-step`, the report in
// `validation-report`; the restore machine's yearly rehearsal checks its
// database items here too. It runs as ValidationDatabaseRole
// (deploy/iam/validation-database.yml), with this class's permissions only.
import { taskHandler } from '../../shared/edge/lambda.ts';
import { validationItemTask } from '../../shared/edge/validation-item.ts';
import { databaseItemPorts } from '../../shared/edge/validation-item-ports.ts';

/** The plain function tests, the local runner and `kura invoke` call. */
export const run = validationItemTask(databaseItemPorts);

export const handler = taskHandler('validation-database', run);
