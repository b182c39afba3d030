// Use case (content class): the complete generations in the vault, for the
// inventory report and the validation planner (one item per generation).

import type { Deps } from '../aws/deps.ts';
import type { EstatePorts } from '../aws/report-ports.ts';
import { isAwsError } from '../runtime/aws-errors.ts';
import { listContent } from '../restore/content.ts';
import type { RecoveryPointRef } from '../restore/types.ts';
import type { InventoryItem } from './inventory.ts';

export async function contentGenerations(
  deps: Deps,
  estate: Pick<EstatePorts, 'content'>,
): Promise<InventoryItem[]> {
  if (deps.policy.content.length === 0) return [];
  let points: RecoveryPointRef[];
  try {
    points = await listContent({ vault: () => estate.content }, deps);
  } catch (e) {
    // No vault yet: no generations (the other classes' inventory still counts).
    if (isAwsError(e, 'notFound')) return [];
    throw e;
  }
  return points.map((rp) => ({
    class: 'content',
    source: rp.source,
    id: rp.id,
    time: rp.time,
    region: rp.region,
    status: 'complete',
  }));
}
