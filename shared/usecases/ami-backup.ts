// Use case (image class): a machine image (AMI) of every tagged EC2 instance
// per scheduled time, or of one instance on demand with a reason; a
// configuration record per image in the vault with what changed since the
// previous image; once the image is `available`: a DR-region copy, sharing
// with the isolated account (after a KMS pre-flight check), and pruning that
// keeps the policy's generations, deletes an image's snapshots with it, and
// never touches an image in use or one kura does not manage.
import type { RecordStore } from '../aws/config-records.ts';
import {
  copyDescription,
  type ImagePort,
  type InstanceSummary,
  type MachineImage,
} from '../aws/ec2-images.ts';
import { awsErrorName, describeAwsError, isAwsError } from '../aws/errors.ts';
import type { KeyPort } from '../aws/kms.ts';
import {
  buildConfigurationRecord,
  type ConfigurationRecord,
  configRecordKey,
  describeChanges,
  type InstanceConfiguration,
  parseConfigurationRecord,
} from '../domain/config-record.ts';
import { type KeyFacts, sharingBlockers } from '../domain/image-sharing.ts';
import { recoveryPointName } from '../domain/naming.ts';
import { drTarget, isSelected } from '../domain/selection.ts';
import type { PointState, ProgressRule } from '../domain/progress.ts';
import { planPruning, type RecoveryPoint } from '../domain/retention.ts';
import { isManaged, managedTags, TAG, taggedTime } from '../domain/tags.ts';
import type { ImagesPolicy, Policy } from '../policy/schema.ts';
import { InputError, RecoveryPointFailedError } from '../runtime/errors.ts';
import type { ScheduledEvent } from '../runtime/event.ts';
import {
  errorInfo,
  forEachTarget,
  type MetricPoint,
  newRunResult,
  type RunResult,
  type TargetOutcome,
} from '../runtime/result.ts';
import { checkProgress, combinedFailure } from './progress.ts';

export const FUNCTION_NAME = 'ami-backup';
const FAILED_STATES = new Set(['failed', 'error', 'invalid']);

export interface AmiBackupPorts {
  images: ImagePort;
  keys: KeyPort;
  records: RecordStore;
  /** The clock the wait budget is measured on, the one waitForImage polls on (the run's "now" comes from the event). */
  clock: () => number;
}

export interface AmiBackupRequest {
  now: Date;
  /** On demand: image this instance only. */
  instanceId?: string;
  /** Why this image was taken (on demand), kept in its tags and record. */
  reason?: string;
}

const DETAIL_KEYS = ['instance', 'reason'];

/** Reads `detail.instance` and `detail.reason` (what `kura invoke ami-backup --instance … --reason …` sends). */
export function amiBackupRequest(event: ScheduledEvent): AmiBackupRequest {
  const problems: string[] = [];
  const d = event.detail;
  for (const k of Object.keys(d)) {
    if (!DETAIL_KEYS.includes(k))
      problems.push(`event.detail.${k}: unknown; expected only ${DETAIL_KEYS.join(' or ')}`);
  }
  const req: AmiBackupRequest = { now: new Date(event.time) };
  if (d.instance !== undefined) {
    if (typeof d.instance !== 'string' || !/^i-[0-9a-f]{8,17}$/.test(d.instance)) {
      problems.push(
        `event.detail.instance: found ${JSON.stringify(d.instance)}; expected an EC2 instance id such as i-0123456789abcdef0`,
      );
    } else req.instanceId = d.instance;
  }
  if (d.reason !== undefined) {
    if (typeof d.reason !== 'string' || d.reason.trim() === '') {
      problems.push(
        `event.detail.reason: found ${JSON.stringify(d.reason)}; expected a short text such as "after nginx upgrade"`,
      );
    } else if (d.reason.length > 255) {
      problems.push(
        `event.detail.reason: ${d.reason.length} characters; expected at most 255 (it is stored as a tag value)`,
      );
    } else req.reason = d.reason.trim();
  }
  if (problems.length > 0) throw new InputError(problems);
  return req;
}

export function selectedInstance(i: InstanceSummary, policy: Policy): boolean {
  return isSelected(i.tags, policy);
}

export { drTarget };

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

interface Context {
  policy: Policy;
  cfg: ImagesPolicy;
  ports: AmiBackupPorts;
  now: Date;
  metrics: MetricPoint[];
  inUse: Map<string, Map<string, string>>;
}

async function imagesInUse(ctx: Context, region: string): Promise<Map<string, string>> {
  let m = ctx.inUse.get(region);
  if (!m) {
    m = await ctx.ports.images.imagesInUse(region);
    ctx.inUse.set(region, m);
  }
  return m;
}

const namePrefix = (instanceId: string) => recoveryPointName(instanceId, new Date(0)).replace(/\d{12}$/, '');

/**
 * Deregisters an image, then deletes its kura-managed snapshots (orphaned
 * snapshots are the classic cost leak). EC2 may still hold a snapshot for a
 * moment after DeregisterImage (InvalidSnapshot.InUse): the adapter retries for
 * a while, and one still held is left to the next run's orphan sweep.
 */
async function removeImage(ctx: Context, img: MachineImage, outcome: TargetOutcome): Promise<string[]> {
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
async function prune(
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
  const where = region === ctx.policy.region ? '' : ` in ${region}`;
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

/** The newest `generations` available managed images of the instance, newest first. */
function keptImages(ctx: Context, instanceId: string, images: MachineImage[]): MachineImage[] {
  return images
    .filter(
      (i) =>
        isManaged(i.tags, 'image') &&
        i.tags[TAG.source] === instanceId &&
        i.state === 'available' &&
        taggedTime(i.tags),
    )
    .sort((a, b) => (taggedTime(b.tags)?.getTime() ?? 0) - (taggedTime(a.tags)?.getTime() ?? 0))
    .slice(0, ctx.cfg.generations);
}

async function copyToDr(
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

async function keyFacts(ctx: Context, keyIds: string[]): Promise<KeyFacts[]> {
  const out: KeyFacts[] = [];
  for (const keyId of [...new Set(keyIds)]) {
    const k = await ctx.ports.keys.describe(keyId);
    out.push({ keyId, arn: k.arn, manager: k.manager, principalsAllowed: k.principalsAllowed });
  }
  return out;
}

async function share(
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

interface Taken {
  instance: InstanceSummary;
  outcome: TargetOutcome;
  image: MachineImage;
  volumeKeys: string[];
}

function previousImage(ctx: Context, instanceId: string, images: MachineImage[]): MachineImage | undefined {
  return images
    .filter(
      (i) => isManaged(i.tags, 'image') && i.tags[TAG.source] === instanceId && !FAILED_STATES.has(i.state),
    )
    .filter((i) => (taggedTime(i.tags)?.getTime() ?? Infinity) < ctx.now.getTime())
    .sort((a, b) => (taggedTime(b.tags)?.getTime() ?? 0) - (taggedTime(a.tags)?.getTime() ?? 0))[0];
}

async function writeRecord(
  ctx: Context,
  instanceId: string,
  images: MachineImage[],
  image: MachineImage,
  configuration: InstanceConfiguration,
  reason: string | undefined,
  outcome: TargetOutcome,
): Promise<ConfigurationRecord> {
  const prev = previousImage(ctx, instanceId, images);
  const prevRecord = prev
    ? parseConfigurationRecord(await ctx.ports.records.get(configRecordKey(instanceId, prev.name)))
    : undefined;
  const record = buildConfigurationRecord({
    image: {
      id: image.id,
      name: image.name,
      region: image.region,
      time: ctx.now.toISOString(),
      reason,
      reboot: ctx.cfg.reboot,
      createdBy: FUNCTION_NAME,
    },
    configuration,
    previous: prev
      ? { name: prev.name, id: prev.id, time: prev.tags[TAG.time] ?? '', record: prevRecord }
      : undefined,
  });
  const key = configRecordKey(instanceId, image.name);
  await ctx.ports.records.put(key, record);
  outcome.record = ctx.ports.records.location(key);
  outcome.changes = describeChanges(record);
  return record;
}

async function take(
  ctx: Context,
  inst: InstanceSummary,
  reason: string | undefined,
  outcome: TargetOutcome,
): Promise<Taken> {
  const name = recoveryPointName(inst.id, ctx.now);
  outcome.image = name;
  outcome.reboot = ctx.cfg.reboot;
  outcome.pruned = [];
  outcome.deletedSnapshots = [];
  outcome.copied = [];
  outcome.shared = [];
  const images = await ctx.ports.images.listImages(inst.id, namePrefix(inst.id), ctx.policy.region);
  let image = images.find((i) => i.name === name);
  if (image && !isManaged(image.tags)) {
    throw new Error(
      `image ${name} (${image.id}) exists but is not kura-managed; refusing to adopt or replace it`,
    );
  }
  const configuration = await ctx.ports.images.getConfiguration(inst.id);
  const volumeKeys = configuration.blockDevices.map((b) => b.kmsKeyId).filter((k): k is string => Boolean(k));
  if (image) {
    outcome.actions.push(`image ${name} (${image.id}) already exists (replayed event): nothing new taken`);
    // A run that stopped between the image and the tags of its snapshots tags them now.
    if (image.snapshots.some((s) => !isManaged(s.tags))) {
      const kuraTags = Object.fromEntries(
        Object.entries(image.tags).filter(([k]) => k === 'Name' || k.startsWith('kura:')),
      );
      image = await ctx.ports.images.ensureTags(image, kuraTags);
      outcome.actions.push(`tagged the snapshot(s) of ${name} that an interrupted run left untagged`);
    }
    // A run that stopped between the image and its record writes the record now.
    if ((await ctx.ports.records.get(configRecordKey(inst.id, name))) === undefined) {
      await writeRecord(ctx, inst.id, images, image, configuration, image.tags[TAG.reason], outcome);
      outcome.actions.push('wrote the missing configuration record');
    }
  } else {
    const tags = {
      Name: name,
      ...managedTags({
        backupClass: 'image',
        source: inst.id,
        time: ctx.now,
        createdBy: FUNCTION_NAME,
        reason,
      }),
    };
    image = await ctx.ports.images.createImage(inst.id, name, {
      // Without a reboot the image is crash-consistent only (see docs/images.md).
      noReboot: !ctx.cfg.reboot,
      tags,
      description: `kura image of ${inst.id} at ${ctx.now.toISOString()}${reason ? `: ${reason}` : ''}`.slice(
        0,
        255,
      ),
    });
    outcome.actions.push(
      `created ${name} (${image.id})${ctx.cfg.reboot ? ' with a reboot' : ' without a reboot'}${reason ? ` — ${reason}` : ''}`,
    );
    ctx.metrics.push({ name: 'ImagesCreated', value: 1, unit: 'Count', dimensions: { instance: inst.id } });
    await writeRecord(ctx, inst.id, images, image, configuration, reason, outcome);
  }
  outcome.imageId = image.id;
  outcome.imageState = image.state;
  return { instance: inst, outcome, image, volumeKeys };
}

function progressRule(ctx: Context): ProgressRule {
  return {
    stuckAfterHours: ctx.cfg.stuckAfterHours,
    schedule: ctx.policy.schedules['ami-backup'],
    timeZone: ctx.policy.timezone,
  };
}

/** The source's images and copies AWS has not finished, or that failed, but today's (the run waits for that one). */
function progressOf(images: MachineImage[], todays: string): PointState[] {
  return images.flatMap((img) => {
    // A DR copy's progress counts from when it was copied (its CreationDate), not from the source's time.
    const time = img.createdAt ?? taggedTime(img.tags);
    if (!isManaged(img.tags, 'image') || !time || img.id === todays) return [];
    return [{ id: `${img.name} (${img.id})`, status: img.state, time }];
  });
}

/**
 * Today's image, waited for within the budget; then every earlier step whose
 * image AWS has finished since: prune, DR copy, share. On AWS a new image is
 * usually still pending when its own run ends: the next run completes it.
 */
async function settle(
  ctx: Context,
  t: Taken,
  deadline: number,
  dr: ReturnType<typeof drTarget>,
): Promise<void> {
  const { outcome, instance } = t;
  const image =
    t.image.state === 'pending' ? await ctx.ports.images.waitForImage(t.image.id, deadline) : t.image;
  if (!image) throw new Error(`image ${t.image.name} (${t.image.id}) disappeared while kura waited for it`);
  outcome.imageState = image.state;
  let failure: Error | undefined;
  if (FAILED_STATES.has(image.state)) {
    const snaps = await removeImage(ctx, image, outcome);
    (outcome.deletedSnapshots as string[]).push(...snaps);
    ctx.metrics.push({
      name: 'ImagesFailed',
      value: 1,
      unit: 'Count',
      dimensions: { instance: instance.id },
    });
    outcome.actions.push(
      `cleaned up failed image ${image.name} (${image.id}): deregistered, deleted snapshot(s) ${snaps.join(', ') || '(none)'}`,
    );
    failure = new RecoveryPointFailedError(
      `image ${image.name} (${image.id}) is ${image.state}${image.stateReason ? `: ${image.stateReason}` : ''}; it was cleaned up, the next run takes a new one`,
    );
  } else if (image.state !== 'available') {
    ctx.metrics.push({
      name: 'ImagesPending',
      value: 1,
      unit: 'Count',
      dimensions: { instance: instance.id },
    });
    outcome.actions.push(
      `${image.name} is still ${image.state} after the wait budget: its DR copy and share follow in the next run`,
    );
  }

  const remaining = await prune(ctx, instance.id, ctx.policy.region, outcome);
  const failures = checkProgress(progressOf(remaining, image.id), ctx.now, progressRule(ctx), outcome, '');
  const kept = keptImages(ctx, instance.id, remaining);
  if (dr) {
    await copyToDr(ctx, instance.id, dr, kept, outcome);
    const copies = await prune(ctx, instance.id, dr.region, outcome);
    failures.push(
      ...checkProgress(progressOf(copies, image.id), ctx.now, progressRule(ctx), outcome, ` in ${dr.region}`),
    );
  }
  if (ctx.cfg.shareWithIsolatedAccount && ctx.policy.isolatedAccount) {
    await share(ctx, ctx.policy.isolatedAccount.accountId, kept, t.volumeKeys, outcome);
  }
  const pruned = (outcome.pruned as string[]).length;
  ctx.metrics.push({
    name: 'ImagesPruned',
    value: pruned,
    unit: 'Count',
    dimensions: { instance: instance.id },
  });
  if (failure) failures.unshift(failure);
  const combined = combinedFailure(failures);
  if (combined) throw combined;
}

export async function amiBackup(
  req: AmiBackupRequest,
  policy: Policy,
  ports: AmiBackupPorts,
): Promise<RunResult> {
  const { now } = req;
  const result = newRunResult(FUNCTION_NAME, now);
  const cfg = policy.images;
  if (!cfg) {
    result.warnings.push('the policy has no images section: nothing to do');
    return result;
  }
  const dr = drTarget(policy);
  if (cfg.shareWithIsolatedAccount && !policy.isolatedAccount) {
    result.warnings.push(
      'images.shareWithIsolatedAccount is set but the policy has no isolatedAccount: nothing is shared',
    );
  }
  const clock = ports.clock;
  const ctx: Context = { policy, cfg, ports, now, metrics: result.metrics, inUse: new Map() };

  let targets: InstanceSummary[];
  if (req.instanceId) {
    const inst = await ports.images.getInstance(req.instanceId);
    if (!inst || inst.state === 'terminated' || inst.state === 'shutting-down') {
      throw new InputError([
        `event.detail.instance: ${req.instanceId} ${inst ? `is ${inst.state}` : `was not found in ${policy.region}`}; expected an existing instance`,
      ]);
    }
    if (!selectedInstance(inst, policy)) {
      result.warnings.push(
        `${inst.id} is not tagged ${policy.selector.tagKey}=${policy.selector.tagValue}: imaged on demand, but scheduled runs do not image it`,
      );
    }
    targets = [inst];
    result.onDemand = { instance: inst.id, reason: req.reason ?? null };
  } else {
    const all = await ports.images.listInstances();
    targets = all.filter((i) => selectedInstance(i, policy));
    result.skipped = all.filter((i) => !selectedInstance(i, policy)).map((i) => i.id);
  }

  // Take every image first (they progress in parallel on AWS), then wait for them under one budget.
  const taken: Taken[] = [];
  result.targets = await forEachTarget(
    targets,
    (i) => i.id,
    async (inst, outcome) => {
      taken.push(await take(ctx, inst, req.reason, outcome));
    },
  );
  const deadline = clock() + cfg.waitSeconds * 1000;
  for (const t of taken) {
    try {
      await settle(ctx, t, deadline, dr);
    } catch (err) {
      t.outcome.status = 'failed';
      t.outcome.error = errorInfo(err);
    }
  }

  const failed = result.targets.filter((t) => t.status === 'failed');
  result.ok = failed.length === 0;
  result.metrics.push({ name: 'TargetFailures', value: failed.length, unit: 'Count' });
  return result;
}
