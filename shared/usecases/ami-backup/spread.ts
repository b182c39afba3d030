// Use case (image class): what follows once an image is available: its copy
// in the DR region (catching up any kept image without one) and its share
// with the isolated account, after a pre-flight check of every key involved.
import type { MachineImage } from '../../aws/ec2-images.ts';
import { copyDescription } from '../../domain/naming.ts';
import { type KeyFacts, sharingBlockers } from '../../domain/image-sharing.ts';
import { isManaged, TAG, taggedTime } from '../../domain/tags.ts';
import type { TargetOutcome } from '../../runtime/result.ts';
import { type Context, namePrefix } from './context.ts';

/** The instance's available managed images (with a time), newest first. */
export function availableImages(images: MachineImage[], instanceId: string): MachineImage[] {
  return images
    .filter(
      (i) =>
        isManaged(i.tags, 'image') &&
        i.tags[TAG.source] === instanceId &&
        i.state === 'available' &&
        taggedTime(i.tags),
    )
    .sort((a, b) => (taggedTime(b.tags)?.getTime() ?? 0) - (taggedTime(a.tags)?.getTime() ?? 0));
}

/** The newest `generations` available managed images of the instance, newest first. */
export function keptImages(ctx: Context, instanceId: string, images: MachineImage[]): MachineImage[] {
  return availableImages(images, instanceId).slice(0, ctx.cfg.generations);
}

export async function copyToDr(
  ctx: Context,
  instanceId: string,
  dr: { region: string; kmsKeyId?: string },
  kept: MachineImage[],
  outcome: TargetOutcome,
): Promise<void> {
  // Catch up: every kept image without a copy gets one, so a copy missed on one run is made on the next.
  const there = new Map(
    (await ctx.ports.images.listImages(instanceId, namePrefix(instanceId), dr.region)).map((i) => [
      i.name,
      i,
    ]),
  );
  for (const img of [...kept].reverse()) {
    const found = there.get(img.name);
    if (found && !isManaged(found.tags) && found.description === copyDescription(img)) {
      // Our copy of this very image, left untagged by a run that stopped before tagging it.
      await ctx.ports.images.ensureTags(found, { ...img.tags, [TAG.copyOf]: `${img.region}:${img.id}` });
      outcome.actions.push(
        `tagged ${img.name} in ${dr.region} (${found.id}), a copy an interrupted run left untagged`,
      );
      continue;
    }
    if (found) continue;
    const encrypted = img.snapshots.some((s) => s.encrypted);
    if (encrypted && !dr.kmsKeyId) {
      outcome.warnings.push(
        `${img.name} is encrypted and no images.drKmsKeyId is set: its copy in ${dr.region} uses that region's aws/ebs key and cannot be shared`,
      );
    }
    const copy = await ctx.ports.images.copyImage(
      img,
      dr.region,
      { ...img.tags, [TAG.copyOf]: `${img.region}:${img.id}` },
      dr.kmsKeyId,
    );
    (outcome.copied as string[]).push(`${dr.region}:${copy.id}`);
    outcome.actions.push(`copied ${img.name} to ${dr.region} as ${copy.id}`);
  }
}

export async function keyFacts(ctx: Context, keyIds: string[]): Promise<KeyFacts[]> {
  const out: KeyFacts[] = [];
  for (const keyId of [...new Set(keyIds)]) {
    const k = await ctx.ports.keys.describe(keyId);
    out.push({ keyId, arn: k.arn, manager: k.manager, principalsAllowed: k.principalsAllowed });
  }
  return out;
}

export async function share(
  ctx: Context,
  accountId: string,
  kept: MachineImage[],
  volumeKeys: string[],
  outcome: TargetOutcome,
): Promise<void> {
  // Pre-flight: every key of every image to share is checked before any permission is granted.
  const keyIds = [
    ...volumeKeys,
    ...kept.flatMap((i) => i.snapshots.map((s) => s.kmsKeyId).filter((k): k is string => Boolean(k))),
  ];
  const blockers = sharingBlockers(await keyFacts(ctx, keyIds), accountId);
  if (blockers.length > 0) {
    throw new Error(
      `sharing with the isolated account ${accountId} is blocked, nothing was shared: ${blockers.join('; ')}`,
    );
  }
  for (const img of kept) {
    if (await ctx.ports.images.shareImage(img, accountId)) {
      (outcome.shared as string[]).push(img.id);
      outcome.actions.push(`shared ${img.name} (${img.id}) and its snapshots with ${accountId}`);
    }
  }
}
