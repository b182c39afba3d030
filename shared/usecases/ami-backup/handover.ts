// Use case (image class), with sources: the hand-over of a source account's
// images to the backup account. Each available kura image in the source is
// shared with the backup account (launch permission, and createVolumePermission
// on its snapshots), after a pre-flight of its keys, then copied into the
// backup account re-encrypted with the backup account's key (images.kmsKeyId),
// carrying kura's tags (instance, time, source account and region). Once a
// copy is available, the source keeps only its newest images.keepInSource:
// older kura images there are deregistered and their snapshots deleted. The
// backup account's copies are the recovery points (prune, DR, share, restore).
import type { MachineImage } from '../../aws/ec2-images.ts';
import { sharingBlockers } from '../../domain/image-sharing.ts';
import { TAG } from '../../domain/tags.ts';
import { KuraError } from '../../runtime/errors.ts';
import type { TargetOutcome } from '../../runtime/result.ts';
import { type Context, imagesInUse, namePrefix } from './context.ts';
import { removeImage } from './prune.ts';
import { availableImages, keyFacts } from './spread.ts';

/** A source image cannot be handed over: one of its keys is AWS managed, or does not admit the backup account. */
export class ImageKeyNotShareableError extends KuraError {
  override name = 'ImageKeyNotShareableError';
}

/** The `kura:copy-of` tag of a backup-account copy: the source image it was copied from. */
export const copyOfSource = (ctx: Context, img: MachineImage) =>
  `${ctx.source.account}/${img.region}:${img.id}`;

/**
 * Shares and copies every available source image of the instance that has no
 * copy in the backup account yet (a copy missed on one run is made on the
 * next), then waits for pending copies within the run's budget. Returns the
 * backup account's images of the instance (in its home region).
 */
export async function handOver(
  ctx: Context,
  home: Context,
  backupAccount: string,
  instanceId: string,
  deadline: number,
  outcome: TargetOutcome,
): Promise<MachineImage[]> {
  const keyId = ctx.cfg.kmsKeyId;
  if (!keyId)
    throw new Error('images.kmsKeyId is required with sources (the policy check refuses its absence)');
  const region = home.source.region;
  const there = new Map(
    (await home.ports.images.listImages(instanceId, namePrefix(instanceId), region)).map((i) => [i.name, i]),
  );
  const mine = availableImages(
    await ctx.ports.images.listImages(instanceId, namePrefix(instanceId), ctx.source.region),
    instanceId,
  );
  const todo = mine.filter((i) => !there.has(i.name)).reverse();
  // Pre-flight: every key of every image to hand over, before any permission is granted.
  const keyIds = todo.flatMap((i) =>
    i.snapshots.map((s) => s.kmsKeyId).filter((k): k is string => Boolean(k)),
  );
  const blockers = sharingBlockers(await keyFacts(ctx, keyIds), backupAccount);
  const noKey = todo.flatMap((i) =>
    i.snapshots
      .filter((s) => s.encrypted && !s.kmsKeyId)
      .map((s) => `snapshot ${s.id} of ${i.name} is encrypted with the default aws/ebs key`),
  );
  if (blockers.length + noKey.length > 0) {
    throw new ImageKeyNotShareableError(
      `the images of ${instanceId} in ${ctx.source.account}/${ctx.source.region} cannot be handed over to the backup account ${backupAccount}, nothing was shared: ${[...noKey, ...blockers].join('; ')}. Encrypt the instance's volumes with a customer-managed key whose policy admits ${backupAccount} (docs/deploy.md, "Images in the backup account")`,
    );
  }
  for (const img of todo) {
    await ctx.ports.images.shareImage(img, backupAccount);
    const copy = await home.ports.images.copyImage(
      img,
      region,
      { ...img.tags, [TAG.copyOf]: copyOfSource(ctx, img) },
      keyId,
    );
    there.set(copy.name, copy);
    (outcome.backupCopies as string[]).push(`${region}:${copy.id}`);
    outcome.actions.push(
      `shared ${img.name} (${img.id}) with the backup account ${backupAccount} and copied it there as ${copy.id} (${region}, re-encrypted with ${keyId})`,
    );
  }
  const out: MachineImage[] = [];
  for (const img of there.values()) {
    const now =
      img.state === 'pending' ? await home.ports.images.waitForImage(img.id, deadline, region) : img;
    if (now) out.push(now);
  }
  return out;
}

/**
 * The source keeps its newest `keepInSource` images of the instance; each
 * older one goes once its backup-account copy is available (never before,
 * never one kura does not manage, never one in use in the source).
 */
export async function trimSource(
  ctx: Context,
  instanceId: string,
  copies: MachineImage[],
  outcome: TargetOutcome,
): Promise<MachineImage[]> {
  const region = ctx.source.region;
  const mine = availableImages(
    await ctx.ports.images.listImages(instanceId, namePrefix(instanceId), region),
    instanceId,
  );
  const inUse = await imagesInUse(ctx, region);
  const copied = new Map(copies.map((c) => [c.name, c]));
  const kept: MachineImage[] = [];
  for (const [i, img] of mine.entries()) {
    const copy = copied.get(img.name);
    const why =
      i < ctx.cfg.keepInSource
        ? undefined
        : copy?.state !== 'available'
          ? `its copy in the backup account is ${copy ? copy.state : 'not made yet'}`
          : inUse.get(img.id);
    if (i < ctx.cfg.keepInSource || why) {
      if (why) outcome.actions.push(`kept ${img.name} (${img.id}) in the source: ${why}`);
      kept.push(img);
      continue;
    }
    const snaps = await removeImage(ctx, img, outcome);
    (outcome.removedFromSource as string[]).push(`${region}:${img.id}`);
    (outcome.deletedSnapshots as string[]).push(...snaps);
    outcome.actions.push(
      `removed ${img.name} (${img.id}) from the source and its snapshot(s) ${snaps.join(', ') || '(none)'}: the backup account holds ${copy?.id}, the source keeps ${ctx.cfg.keepInSource}`,
    );
  }
  return kept;
}
