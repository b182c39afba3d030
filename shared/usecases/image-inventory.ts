// Use case (image class): kura's machine images for the inventory, in the
// policy's region and the DR region, whatever their source instance (the
// images of a server that is gone are the ones a rebuild needs). With
// sources, those are the backup account's copies (each tagged with its
// source account and region), and each source account and region adds the
// images images.keepInSource leaves there when the caller can read them (a
// function role: the kura-source roles trust no operator); one that cannot be
// read is a note, not a failure.

import type { Deps } from '../aws/deps.ts';
import type { MachineImage } from '../aws/ec2-images.ts';
import type { EstatePorts } from '../aws/report-ports.ts';
import { TAG } from '../domain/tags.ts';
import { describeAwsError, isAwsError } from '../runtime/aws-errors.ts';
import { drTarget } from './ami-backup.ts';
import type { InventoryItem, InventoryOptions } from './inventory.ts';

function item(img: MachineImage, region: string, location?: InventoryItem['location']): InventoryItem {
  const account = img.tags[TAG.sourceAccount];
  return {
    class: 'image',
    source: img.tags[TAG.source] ?? '',
    id: img.id,
    time: img.tags[TAG.time] ?? '',
    region,
    status: img.state,
    validated: img.tags[TAG.validated],
    ...(location && account ? { account, sourceRegion: img.tags[TAG.sourceRegion] ?? region, location } : {}),
  };
}

export async function imageInventory(
  { policy }: Deps,
  { images, sourceImages }: EstatePorts,
  opts: InventoryOptions = {},
): Promise<InventoryItem[]> {
  if (!policy.images) return [];
  const regions = [
    policy.region,
    ...(policy.images.copyToDrRegion ? [drTarget(policy)?.region ?? policy.region] : []),
  ];
  const withSources = Boolean(policy.sources?.length);
  const out: InventoryItem[] = [];
  for (const region of [...new Set(regions)]) {
    for (const img of await images.listManagedImages(region)) {
      out.push(item(img, region, withSources ? (region === policy.region ? 'backup' : 'dr') : undefined));
    }
  }
  if (policy.sources?.length && !sourceImages)
    opts.notes?.push(
      "images left in the source accounts (images.keepInSource) are not listed: this report reads the backup account only (the kura-source roles trust kura's function roles, not operators); every recovery point is the backup account's copy",
    );
  for (const { target, images: there } of sourceImages ?? []) {
    let found: MachineImage[];
    try {
      found = await there.listManagedImages(target.region);
    } catch (err) {
      if (!isAwsError(err, 'accessDenied')) throw err;
      opts.notes?.push(
        `images left in source account ${target.account} (${target.region}) could not be read (${describeAwsError(err)}): only the backup account's copies are listed for it`,
      );
      continue;
    }
    for (const img of found) out.push(item(img, target.region, 'source'));
  }
  return out;
}
