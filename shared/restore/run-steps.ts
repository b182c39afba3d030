// Restore: the registry of restore steps, one per backup class. The
// validation and restore state machines both dispatch through here: one
// implementation, two machines. Imported statically: in a bundle a dynamic
// import() keeps every export of the module and of the SDK clients under it
// (no tree shaking: ~430 KB more in restore, EC2's aggregated client among it).
import { InputError } from '../runtime/errors.ts';
import { contentRestoreStep } from './content.ts';
import { databaseRestoreStep } from './database.ts';
import { imageRestoreStep } from './image.ts';
import { logsRestoreStep } from './logs.ts';
import type { RestoreClass, RestoreStep } from './types.ts';

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
