// Use case (image class): kura's machine images for the inventory, in the
// policy's region and the DR region, whatever their source instance (the
// images of a server that is gone are the ones a rebuild needs).

import type { Deps } from '../aws/deps.ts';
import type { EstatePorts } from '../aws/report-ports.ts';
import { TAG } from '../domain/tags.ts';
import { drTarget } from './ami-backup.ts';
import type { InventoryItem } from './inventory.ts';

export async function imageInventory({ policy }: Deps, { images }: EstatePorts): Promise<InventoryItem[]> {
  if (!policy.images) return [];
  const regions = [
    policy.region,
    ...(policy.images.copyToDrRegion ? [drTarget(policy)?.region ?? policy.region] : []),
  ];
  const out: InventoryItem[] = [];
  for (const region of [...new Set(regions)]) {
    for (const img of await images.listManagedImages(region)) {
      out.push({
        class: 'image',
        source: img.tags[TAG.source] ?? '',
        id: img.id,
        time: img.tags[TAG.time] ?? '',
        region,
        status: img.state,
        validated: img.tags[TAG.validated],
      });
    }
  }
  return out;
}
