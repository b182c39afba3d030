// Lambda edge for `validation-database`: the validation Map's item states (restore, check,
// cleanup, chosen by the event's `step`) for one database item (an instance or an Aurora cluster): restore into the isolated account, the checks and the SQL probes through the isolated account's probe runner, and the cleanup with the sweep of the run's stray databases. Its bundle carries RDS, and EC2 for the isolated network.
// The plan and report run in `validation-step`; the restore machine's yearly
// rehearsal checks its database items here too. It runs as ValidationDatabaseRole
// (deploy/iam/validation-database.yml), with this class's permissions only.
import { taskHandler } from '../../shared/edge/lambda.ts';
import { validationItemTask } from '../../shared/edge/validation-item.ts';
import { databaseItemPorts } from '../../shared/edge/validation-item-ports.ts';

/** The plain function tests, the local runner and `kura invoke` call. */
export const run = validationItemTask(databaseItemPorts);

export const handler = taskHandler('validation-database', run);
