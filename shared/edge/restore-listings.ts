// Edge: each class's recovery points without its restore, for the plan
// task. The restore function that plans lists every class; importing the
// classes' steps (restore-steps.ts) for that would bundle every restore adapter
// into it, which the per-class item functions carry instead.
import { awsListingPorts } from '../aws/restore-ports.ts';
import { listContent } from '../restore/content.ts';
import { listDatabase } from '../restore/database.ts';
import { listImages } from '../restore/image.ts';
import { listLogs } from '../restore/logs.ts';
import type { RestoreClass, RestoreListing } from '../restore/types.ts';
import { InputError } from '../runtime/errors.ts';

export const RESTORE_LISTINGS: Record<RestoreClass, RestoreListing> = {
  database: { class: 'database', list: (deps, opts) => listDatabase(awsListingPorts, deps, opts) },
  image: { class: 'image', list: (deps, opts) => listImages(awsListingPorts, deps, opts) },
  content: { class: 'content', list: (deps, opts) => listContent(awsListingPorts, deps, opts) },
  logs: { class: 'logs', list: (deps, opts) => listLogs(awsListingPorts, deps, opts) },
};

/** The listing of a class named in a request; an InputError for any other name. */
export async function restoreListing(cls: string): Promise<RestoreListing> {
  if (!Object.hasOwn(RESTORE_LISTINGS, cls))
    throw new InputError([`class "${cls}": expected one of ${Object.keys(RESTORE_LISTINGS).join(', ')}`]);
  return RESTORE_LISTINGS[cls as RestoreClass];
}
