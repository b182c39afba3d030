// Restore: what a run left in the isolated account, as the validation report's
// "nothing left behind" reads it (the reads are in aws/isolated-leftovers.ts).
import * as isolated from '../aws/isolated-leftovers.ts';
import type { CreatedResource, IsolatedTarget } from './types.ts';

export type { Leftover } from '../aws/isolated-leftovers.ts';

/** kura-managed resources in the isolated account (of one run when `runId` is given), not the isolated network. */
export const listManagedInIsolated = (target: IsolatedTarget, runId?: string) =>
  isolated.listManagedInIsolated(target, runId);

/** Whether a resource a restore recorded still exists (undefined: kura cannot tell for this type). */
export const stillExists = (target: IsolatedTarget, r: CreatedResource) => isolated.stillExists(target, r);

/** Deletes a detached kura-managed volume a terminated instance left behind ('kept': attached or not kura's). */
export const deleteLeftoverVolume = (target: IsolatedTarget, id: string) =>
  isolated.deleteLeftoverVolume(target, id);
