// Use case (image class): pruning one instance's images in one region to the
// policy's generations, never an image in use or one kura does not manage,
// deleting each pruned image's snapshots and the orphans a crash left.
import { awsErrorName, describeAwsError, isAwsError } from '../../runtime/aws-errors.ts';
import type { MachineImage } from '../../aws/ec2-images.ts';
import { planPruning, type RecoveryPoint } from '../../domain/retention.ts';
import { isManaged, TAG, taggedTime } from '../../domain/tags.ts';
import type { TargetOutcome } from '../../runtime/result.ts';
import { type Context, imagesInUse, namePrefix } from './context.ts';

function imagePoint(img: MachineImage, source: string, inUse: Map<string, string>): RecoveryPoint {
  const time = taggedTime(img.tags);
  return {
    id: img.id,
    // A managed image without a readable time is kept (treated as new).
    time: time ?? new Date(8.64e15),
    managed: isManaged(img.tags, 'image') && img.tags[TAG.source] === source && time !== undefined,
    complete: img.state === 'available',
    validated: Boolean(img.tags[TAG.validated]),
    protectedBy: inUse.get(img.id),
  };
}

/**
 * Deregisters an image, then deletes its kura-managed snapshots (orphaned
 * snapshots are the classic cost leak). EC2 may still hold a snapshot for a
 * moment after DeregisterImage (InvalidSnapshot.InUse): the adapter retries for
 * a while, and one still held is left to the next run's orphan sweep.
 */
export async function removeImage(
  ctx: Context,
  img: MachineImage,
  outcome: TargetOutcome,
): Promise<string[]> {
  await ctx.ports.images.deregisterImage(img.id, img.region);
  const deleted: string[] = [];
  for (const s of img.snapshots) {
    if (!isManaged(s.tags, 'image')) {
      outcome.warnings.push(`snapshot ${s.id} of ${img.id} is not kura-managed: left in place`);
      continue;
    }
    try {
      await ctx.ports.images.deleteSnapshot(s.id, img.region);
      deleted.push(s.id);
    } catch (err) {
      if (!isAwsError(err, 'inUse')) throw err;
      outcome.actions.push(
        `snapshot ${s.id} of ${img.id} is still in use just after deregistering (${awsErrorName(err)}): the next run's orphan sweep deletes it`,
      );
    }
  }
  return deleted;
}

/** Prunes one instance's images in one region; returns the images that remain. */
export async function prune(
  ctx: Context,
  instanceId: string,
  region: string,
  outcome: TargetOutcome,
): Promise<MachineImage[]> {
  const images = await ctx.ports.images.listImages(instanceId, namePrefix(instanceId), region);
  const inUse = await imagesInUse(ctx, region);
  const rule = { minGenerations: ctx.cfg.generations, maxGenerations: ctx.cfg.generations };
  const plan = planPruning(
    images.map((i) => imagePoint(i, instanceId, inUse)),
    rule,
    ctx.now,
  );
  const where = region === ctx.source.region ? '' : ` in ${region}`;
  for (const k of plan.keep) {
    if (
      k.reason === 'not kura-managed' ||
      k.reason === inUse.get(k.id) ||
      k.reason === 'newest validated recovery point'
    ) {
      const img = images.find((i) => i.id === k.id);
      outcome.actions.push(`kept ${img?.name ?? k.id} (${k.id})${where}: ${k.reason}`);
    }
  }
  for (const d of plan.prune) {
    const img = images.find((i) => i.id === d.id);
    // Belt and braces: the plan prunes only managed points; re-check the tags we act on.
    if (!img || !isManaged(img.tags, 'image')) continue;
    const snaps = await removeImage(ctx, img, outcome);
    (outcome.pruned as string[]).push(`${region}:${img.id}`);
    (outcome.deletedSnapshots as string[]).push(...snaps);
    outcome.actions.push(
      `pruned ${img.name} (${img.id})${where} and its snapshot(s) ${snaps.join(', ') || '(none)'}: ${d.reason}`,
    );
  }
  // Snapshots of images that no longer exist (a crash between deregister and delete, a failed copy).
  const gone = new Set(plan.prune.map((d) => d.id));
  const remaining = images.filter((i) => !gone.has(i.id));
  const referenced = new Set(remaining.flatMap((i) => i.snapshotIds));
  const times = new Set(remaining.map((i) => i.tags[TAG.time]));
  for (const s of await ctx.ports.images.listManagedSnapshots(instanceId, region)) {
    const t = taggedTime(s.tags);
    if (referenced.has(s.id) || !t || times.has(s.tags[TAG.time]) || t.getTime() >= ctx.now.getTime())
      continue;
    try {
      await ctx.ports.images.deleteSnapshot(s.id, region);
      (outcome.deletedSnapshots as string[]).push(s.id);
      outcome.actions.push(
        `deleted orphaned snapshot ${s.id}${where} (its image ${s.tags[TAG.time]} is gone)`,
      );
    } catch (err) {
      // Only "still in use" is expected (an image or a just-deregistered one holds it); anything else fails the run.
      if (!isAwsError(err, 'inUse')) throw err;
      outcome.warnings.push(`orphaned snapshot ${s.id}${where} is still in use: ${describeAwsError(err)}`);
    }
  }
  return remaining;
}
