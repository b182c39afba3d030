// Edge: each class's cleanup alone, bound to the AWS adapters it removes with.
// The yearly rehearsal's cleanup (functions/validation-step) removes what every
// class made and restores nothing: taking the classes' whole steps
// (restore-steps.ts) for that would bundle every restore path (the instance
// launch, the SQL dump, the tar reader) into it.
import type { Clients } from '../aws/clients.ts';
import { S3ContentAdapter } from '../aws/content.ts';
import { describeIsolatedInstance, terminateInstance } from '../aws/isolated-instances.ts';
import { S3LogStore } from '../aws/log-store.ts';
import { RdsRestoreAdapter } from '../aws/rds-restore.ts';
import { cleanupContent } from '../restore/content.ts';
import { cleanupDatabase } from '../restore/database.ts';
import { cleanupImage } from '../restore/image.ts';
import { cleanupLogs } from '../restore/logs.ts';
import type { RestoreClass, RestoreCleanup } from '../restore/types.ts';
import { InputError } from '../runtime/errors.ts';

const instances = (clients: Clients) => ({
  describe: (id: string, region?: string) => describeIsolatedInstance(clients, id, region),
  terminate: (id: string, region?: string) => terminateInstance(clients, id, region),
});

export const RESTORE_CLEANUPS: Record<RestoreClass, RestoreCleanup> = {
  database: {
    class: 'database',
    cleanup: (target, resources) =>
      cleanupDatabase(
        { rds: (clients, region) => new RdsRestoreAdapter(clients, region) },
        target,
        resources,
      ),
  },
  image: { class: 'image', cleanup: (target, resources) => cleanupImage({ instances }, target, resources) },
  content: {
    class: 'content',
    cleanup: (target, resources) =>
      cleanupContent(
        { content: (clients, region) => new S3ContentAdapter(clients, region) },
        target,
        resources,
      ),
  },
  logs: {
    class: 'logs',
    cleanup: (target, resources) =>
      cleanupLogs({ logs: (clients) => new S3LogStore(clients) }, target, resources),
  },
};

/** The cleanup of a class named in a restore's records; an InputError for any other name. */
export async function restoreCleanup(cls: string): Promise<RestoreCleanup> {
  if (!Object.hasOwn(RESTORE_CLEANUPS, cls))
    throw new InputError([`class "${cls}": expected one of ${Object.keys(RESTORE_CLEANUPS).join(', ')}`]);
  return RESTORE_CLEANUPS[cls as RestoreClass];
}
