// Restore: the clean-up loop every class shares. Each resource is tried even
// when an earlier one fails; what could not be removed is named at the end.
// NotReadyError passes through so the state machine retries later.
import { NotReadyError } from '../runtime/errors.ts';
import type { CreatedResource } from './types.ts';

export async function removeEach(
  resources: CreatedResource[],
  remove: (r: CreatedResource) => Promise<void>,
): Promise<void> {
  const problems: string[] = [];
  for (const r of resources) {
    try {
      await remove(r);
    } catch (err) {
      if (err instanceof NotReadyError) throw err;
      problems.push(`${r.type} ${r.id}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new Error(`cleanup left resources behind: ${problems.join('; ')}`);
}
