// Lambda edge for `ami-backup`: parse the scheduled (or on-demand) event, run the use case.
import { S3RecordStore } from '../../shared/aws/config-records.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { S3FirstPointLedger } from '../../shared/aws/first-points.ts';
import { Ec2ImageAdapter } from '../../shared/aws/ec2-images.ts';
import { KmsAdapter } from '../../shared/aws/kms.ts';
import { sourceClients } from '../../shared/aws/source-clients.ts';
import { lambdaHandler } from '../../shared/edge/lambda.ts';
import { parseScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { amiBackup, amiBackupRequest } from '../../shared/usecases/ami-backup.ts';
import { recordFirstPoints } from '../../shared/usecases/first-points.ts';

/** The plain function tests and `kura invoke ami-backup [--instance i-…] [--reason "…"]` call. */
export async function run(event: unknown, deps: Deps): Promise<RunResult> {
  const { policy, clients } = deps;
  const request = amiBackupRequest(parseScheduledEvent(event));
  const sources = sourceClients(clients, policy);
  // With sources, kura's own account is the backup account that receives the copies.
  const backupAccount = sources.targets.some((t) => t.account) ? await clients.accountId() : undefined;
  const result = await amiBackup(request, policy, {
    images: new Ec2ImageAdapter(clients),
    keys: new KmsAdapter(clients),
    records: new S3RecordStore(clients, policy.vault.bucket),
    clock: () => clients.timer.now(),
    backupAccount,
    sources: sources.targets.map((target) => {
      const c = sources.clientsFor(target);
      return { target, images: new Ec2ImageAdapter(c), keys: new KmsAdapter(c) };
    }),
  });
  await recordFirstPoints(deps, result, new S3FirstPointLedger(deps.clients, deps.policy));
  return result;
}

export const handler = lambdaHandler('ami-backup', run);
