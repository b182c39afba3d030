// Lambda edge for `restore-content`: the restore state machine's item task for
// the content class (a sample, or a whole generation: one of several shards
// runs in content-restore-shard). Its bundle carries S3, KMS and STS only; the
// plan, approval and report run in `restore`. It runs as RestoreContentRole
// (deploy/iam/restore-content.yml), with this class's permissions only.
import { taskHandler } from '../../shared/edge/lambda.ts';
import { restoreItemTask } from '../../shared/edge/restore-item.ts';
import { contentRestoreStep } from '../../shared/edge/restore-steps.ts';
import { awsObjectItemPorts } from '../../shared/edge/restore-ports.ts';

/** The plain function tests, the local runner and `kura invoke` call. */
export const run = restoreItemTask((deps) => awsObjectItemPorts(deps, contentRestoreStep));

export const handler = taskHandler('restore-content', run);
