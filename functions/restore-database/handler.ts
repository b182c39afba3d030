// Lambda edge for `restore-database`: the restore state machine's item task for
// the database class (an instance or an Aurora cluster, point in time
// included). Its bundle carries this class's adapters only (RDS, and EC2 for
// the network and the route in); the plan, approval and report run in
// `restore`. It runs as RestoreDatabaseRole (deploy/iam/restore-database.yml),
// with this class's permissions only.
import { taskHandler } from '../../shared/edge/lambda.ts';
import { restoreItemTask } from '../../shared/edge/restore-item.ts';
import { awsDatabaseItemPorts } from '../../shared/edge/restore-ports.ts';

/** The plain function tests, the local runner and `kura invoke` call. */
export const run = restoreItemTask(awsDatabaseItemPorts);

export const handler = taskHandler('restore-database', run);
