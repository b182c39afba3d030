// Restore: the registry of restore steps, one per backup class, loaded
// lazily so that a Lambda bundle pulls in only what it dispatches to. The
// validation and restore state machines both dispatch through here: one
// implementation, two machines.
import { InputError } from '../runtime/errors.ts';
import type { RestoreClass, RestoreStep } from './types.ts';

export const RESTORE_STEPS: Record<RestoreClass, () => Promise<RestoreStep>> = {
  database: async () => (await import('./database.ts')).databaseRestoreStep,
  image: async () => (await import('./image.ts')).imageRestoreStep,
  content: async () => (await import('./content.ts')).contentRestoreStep,
  logs: async () => (await import('./logs.ts')).logsRestoreStep,
};

/** The restore step of a class named in a state machine's input; an InputError for any other name. */
export async function restoreStep(cls: string): Promise<RestoreStep> {
  if (!Object.hasOwn(RESTORE_STEPS, cls))
    throw new InputError([`class "${cls}": expected one of ${Object.keys(RESTORE_STEPS).join(', ')}`]);
  return RESTORE_STEPS[cls as RestoreClass]();
}
