// Edge: the restore steps bound to their AWS adapters (shared/aws/restore-ports.ts),
// one per backup class, and the registry of all four. The validation and
// restore state machines both dispatch through here: one implementation, two
// machines. A function that restores one class imports that class's step
// alone (functions/restore-<class>), so its bundle carries no other class's
// adapters; the registry is for the runs that need every class (the CLI, the
// validation step). Imported statically: in a bundle a dynamic import() keeps
// every export of the module and of the SDK clients under it.
import {
  awsContentRestorePorts,
  awsDatabaseRestorePorts,
  awsImageRestorePorts,
  awsLogsRestorePorts,
} from '../aws/restore-ports.ts';
import { contentStep } from '../restore/content.ts';
import { databaseStep } from '../restore/database.ts';
import { imageStep } from '../restore/image.ts';
import { logsStep } from '../restore/logs.ts';
import type { RestoreClass, RestoreStep } from '../restore/types.ts';
import { InputError } from '../runtime/errors.ts';

// Pure: a bundle that imports one step leaves the others (and their adapters) out.
export const databaseRestoreStep: RestoreStep = /* @__PURE__ */ databaseStep(awsDatabaseRestorePorts);
export const imageRestoreStep: RestoreStep = /* @__PURE__ */ imageStep(awsImageRestorePorts);
export const contentRestoreStep: RestoreStep = /* @__PURE__ */ contentStep(awsContentRestorePorts);
export const logsRestoreStep: RestoreStep = /* @__PURE__ */ logsStep(awsLogsRestorePorts);

export const RESTORE_STEPS: Record<RestoreClass, () => Promise<RestoreStep>> = {
  database: async () => databaseRestoreStep,
  image: async () => imageRestoreStep,
  content: async () => contentRestoreStep,
  logs: async () => logsRestoreStep,
};

/** The restore step of a class named in a state machine's input; an InputError for any other name. */
export async function restoreStep(cls: string): Promise<RestoreStep> {
  if (!Object.hasOwn(RESTORE_STEPS, cls))
    throw new InputError([`class "${cls}": expected one of ${Object.keys(RESTORE_STEPS).join(', ')}`]);
  return RESTORE_STEPS[cls as RestoreClass]();
}
