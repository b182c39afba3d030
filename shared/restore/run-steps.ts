// Restore: the registry of restore steps, one per backup class, loaded
// lazily so that a Lambda bundle pulls in only what it dispatches to. The
// validation and restore state machines both dispatch through here: one
// implementation, two machines.
import { InputError } from '../runtime/errors.ts';
import type { RestoreClass, RestoreStep } from './types.ts';

export const RESTORE_STEPS: Partial<Record<RestoreClass, () => Promise<RestoreStep>>> = {
  database: async () => (await import('./database.ts')).databaseRestoreStep,
  image: async () => (await import('./image.ts')).imageRestoreStep,
  content: async () => (await import('./content.ts')).contentRestoreStep,
  logs: async () => (await import('./logs.ts')).logsRestoreStep,
};

/** The classes with a restore step, in dependency order (database, servers, content, logs). */
export function restoreClasses(): RestoreClass[] {
  const order: RestoreClass[] = ['database', 'image', 'content', 'logs'];
  return order.filter((c) => RESTORE_STEPS[c]);
}

export async function restoreStep(cls: string): Promise<RestoreStep> {
  const load = RESTORE_STEPS[cls as RestoreClass];
  if (!load) {
    throw new InputError([
      `class "${cls}": no restore step; expected one of ${restoreClasses().join(', ') || '(none)'}`,
    ]);
  }
  return load();
}
