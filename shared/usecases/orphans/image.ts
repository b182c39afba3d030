// Orphan finder (image class): images kura made that carry no kura tags (a
// run that stopped between an image or DR copy and its tagging), snapshots of
// kura's images without kura's tags (never deleted with their image), and
// kura's snapshots whose image is gone (the classic cost leak).

import type { Deps } from '../../aws/deps.ts';
import type { MachineImage } from '../../aws/ec2-images.ts';
import { copyDescription } from '../../domain/naming.ts';
import type { EstatePorts } from '../../aws/report-ports.ts';
import { IDENTIFIER_LIMIT, recoveryPointName } from '../../domain/naming.ts';
import { isManaged, TAG } from '../../domain/tags.ts';
import type { Orphan } from '../orphans.ts';

function madeByKura(img: MachineImage, all: MachineImage[]): boolean {
  const d = img.description ?? '';
  return (
    d.startsWith('kura image of ') || all.some((o) => o.region !== img.region && d === copyDescription(o))
  );
}

export async function imageOrphans({ policy }: Deps, { images: ec2 }: EstatePorts): Promise<Orphan[]> {
  const cfg = policy.images;
  if (!cfg) return [];
  const regions = [policy.region];
  const dr = cfg.drRegion ?? policy.database?.copy?.region;
  if (cfg.copyToDrRegion && dr && dr !== policy.region) regions.push(dr);
  const instances = (await ec2.listInstances()).filter(
    (i) => i.tags[policy.selector.tagKey] === policy.selector.tagValue,
  );
  const out: Orphan[] = [];
  for (const inst of instances) {
    const prefix = recoveryPointName(inst.id, new Date(0), IDENTIFIER_LIMIT.image).replace(/\d{12}$/, '');
    const byRegion = new Map<string, MachineImage[]>();
    for (const region of regions) byRegion.set(region, await ec2.listImages(inst.id, prefix, region));
    const all = [...byRegion.values()].flat();
    for (const region of regions) {
      const images = byRegion.get(region) ?? [];
      for (const img of images) {
        if (!isManaged(img.tags)) {
          if (madeByKura(img, all))
            out.push({
              class: 'image',
              kind: 'image',
              id: img.id,
              region,
              reason: `${img.name} was made by kura (${img.description}) but carries no kura tags: it is never pruned; the next ami-backup run tags it, or deregister it`,
            });
          continue;
        }
        for (const s of img.snapshots.filter((x) => !isManaged(x.tags)))
          out.push({
            class: 'image',
            kind: 'snapshot',
            id: s.id,
            region,
            reason: `snapshot of kura's image ${img.name} (${img.id}) without kura tags: it would be left behind when the image is pruned; the next ami-backup run tags it`,
          });
      }
      const referenced = new Set(images.flatMap((i) => i.snapshotIds));
      for (const s of await ec2.listManagedSnapshots(inst.id, region)) {
        if (referenced.has(s.id)) continue;
        out.push({
          class: 'image',
          kind: 'snapshot',
          id: s.id,
          region,
          reason: `kura's snapshot of an image that is gone (${s.tags[TAG.time] ?? 'time unknown'}): the next ami-backup run deletes it`,
          ...(s.tags[TAG.time] ? { time: s.tags[TAG.time] } : {}),
        });
      }
    }
  }
  return out;
}
