import {
  type AmiBackupPorts,
  type Context,
  FAILED_STATES,
  FUNCTION_NAME,
  namePrefix,
} from './ami-backup/context.ts';
import { prune, removeImage } from './ami-backup/prune.ts';
import { copyToDr, keptImages, share } from './ami-backup/spread.ts';
import { handOver, trimSource } from './ami-backup/handover.ts';
import { writeRecord } from './ami-backup/record.ts';
import type { AmiBackupRequest } from './ami-backup/request.ts';
import type { InstanceSummary, MachineImage } from '../aws/ec2-images.ts';
import { targetLabel } from '../domain/source-target.ts';
import { configRecordKey } from '../domain/config-record.ts';
import { IDENTIFIER_LIMIT, recoveryPointName } from '../domain/naming.ts';
import { drTarget, isSelected } from '../domain/selection.ts';
import type { PointState, ProgressRule } from '../domain/progress.ts';
import { isManaged, managedTags, TAG, taggedTime } from '../domain/tags.ts';
import type { Policy } from '../policy/schema.ts';
import { InputError, RecoveryPointFailedError } from '../runtime/errors.ts';
import {
  errorInfo,
  forEachTarget,
  newRunResult,
  type RunResult,
  type TargetOutcome,
} from '../runtime/result.ts';
import { checkProgress, combinedFailure } from './progress.ts';

export { FUNCTION_NAME } from './ami-backup/context.ts';
export type { AmiBackupPorts } from './ami-backup/context.ts';
export { type AmiBackupRequest, amiBackupRequest } from './ami-backup/request.ts';

export function selectedInstance(i: InstanceSummary, policy: Policy): boolean {
  return isSelected(i.tags, policy);
}

export { drTarget };

interface Taken {
  instance: InstanceSummary;
  outcome: TargetOutcome;
  image: MachineImage;
  volumeKeys: string[];
}

async function take(
  ctx: Context,
  inst: InstanceSummary,
  reason: string | undefined,
  outcome: TargetOutcome,
): Promise<Taken> {
  const name = recoveryPointName(inst.id, ctx.now, IDENTIFIER_LIMIT.image);
  outcome.image = name;
  outcome.reboot = ctx.cfg.reboot;
  outcome.pruned = [];
  outcome.deletedSnapshots = [];
  outcome.copied = [];
  outcome.shared = [];
  if (ctx.home) {
    outcome.backupCopies = [];
    outcome.removedFromSource = [];
  }
  const images = await ctx.ports.images.listImages(inst.id, namePrefix(inst.id), ctx.source.region);
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
        account: ctx.source.account,
        region: ctx.source.region,
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

  // With sources, the backup account's copies are the recovery points: hand today's (and any
  // missed) image over, trim the source to keepInSource, and act on the copies from here on.
  const home = ctx.home ?? ctx;
  const failures: ReturnType<typeof checkProgress> = [];
  if (ctx.home && ctx.ports.backupAccount) {
    const copies = await handOver(ctx, ctx.home, ctx.ports.backupAccount, instance.id, deadline, outcome);
    const left = await trimSource(ctx, instance.id, copies, outcome);
    outcome.inSource = left.map((i) => `${ctx.source.region}:${i.id}`);
  }
  const remaining = await prune(home, instance.id, home.source.region, outcome);
  failures.push(...checkProgress(progressOf(remaining, image.id), ctx.now, progressRule(ctx), outcome, ''));
  const kept = keptImages(home, instance.id, remaining);
  if (dr) {
    await copyToDr(home, instance.id, dr, kept, outcome);
    const copies = await prune(home, instance.id, dr.region, outcome);
    failures.push(
      ...checkProgress(progressOf(copies, image.id), ctx.now, progressRule(ctx), outcome, ` in ${dr.region}`),
    );
  }
  if (ctx.cfg.shareWithIsolatedAccount && ctx.policy.isolatedAccount) {
    // The copies' keys are the backup account's (the instance's volume keys are the source's).
    await share(home, ctx.policy.isolatedAccount.accountId, kept, ctx.home ? [] : t.volumeKeys, outcome);
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
  if (ports.backupAccount && !cfg.kmsKeyId)
    // Checked before anything is taken: a copy under the backup account's aws/ebs key could never be shared.
    throw new InputError([
      `policy: images.kmsKeyId: missing; expected the backup account's KMS key (in ${policy.region}) that encrypts its copies of the source images (required with sources; docs/deploy.md, "Images in the backup account")`,
    ]);
  if (cfg.shareWithIsolatedAccount && !policy.isolatedAccount) {
    result.warnings.push(
      'images.shareWithIsolatedAccount is set but the policy has no isolatedAccount: nothing is shared',
    );
  }
  const clock = ports.clock;
  const sources = ports.sources ?? [
    { target: { region: policy.region }, images: ports.images, keys: ports.keys },
  ];
  // With sources: kura's own ports act in the backup account, in the policy's region.
  const home: Context | undefined = ports.backupAccount
    ? {
        policy,
        cfg,
        ports,
        source: { region: policy.region },
        now,
        metrics: result.metrics,
        inUse: new Map(),
      }
    : undefined;
  const contexts = sources.map(
    (s): Context => ({
      policy,
      cfg,
      ports: { ...ports, images: s.images, keys: s.keys },
      source: s.target,
      now,
      metrics: result.metrics,
      inUse: new Map(),
      home: s.target.account ? home : undefined,
    }),
  );
  // Targets are instance ids in single-account mode (as before sources existed), else <account>/<region>/<id>.
  const named = (ctx: Context, id: string) => (ctx.source.account ? `${targetLabel(ctx.source)}/${id}` : id);

  let targets: { ctx: Context; inst: InstanceSummary }[] = [];
  if (req.instanceId) {
    let found: { ctx: Context; inst: InstanceSummary } | undefined;
    for (const ctx of contexts) {
      const inst = await ctx.ports.images.getInstance(req.instanceId);
      if (inst) {
        found = { ctx, inst };
        break;
      }
    }
    const inst = found?.inst;
    if (!found || !inst || inst.state === 'terminated' || inst.state === 'shutting-down') {
      const where = contexts.map((c) => targetLabel(c.source) || c.source.region).join(', ');
      throw new InputError([
        `event.detail.instance: ${req.instanceId} ${inst ? `is ${inst.state}` : `was not found in ${where}`}; expected an existing instance`,
      ]);
    }
    if (!selectedInstance(inst, policy)) {
      result.warnings.push(
        `${inst.id} is not tagged ${policy.selector.tagKey}=${policy.selector.tagValue}: imaged on demand, but scheduled runs do not image it`,
      );
    }
    targets = [found];
    result.onDemand = { instance: inst.id, reason: req.reason ?? null };
  } else {
    const skipped: string[] = [];
    for (const ctx of contexts) {
      let all: InstanceSummary[];
      try {
        all = await ctx.ports.images.listInstances();
      } catch (err) {
        // An unreachable source (its role refused, its region down) fails itself, not the others.
        if (!ctx.source.account) throw err;
        result.targets.push({
          target: named(ctx, '*'),
          status: 'failed',
          actions: [],
          warnings: [],
          error: errorInfo(err),
        });
        continue;
      }
      targets.push(...all.filter((i) => selectedInstance(i, policy)).map((inst) => ({ ctx, inst })));
      skipped.push(...all.filter((i) => !selectedInstance(i, policy)).map((i) => named(ctx, i.id)));
    }
    result.skipped = skipped;
  }

  // Take every image first (they progress in parallel on AWS), then wait for them under one budget.
  const taken: { ctx: Context; t: Taken }[] = [];
  result.targets.push(
    ...(await forEachTarget(
      targets,
      ({ ctx, inst }) => named(ctx, inst.id),
      async ({ ctx, inst }, outcome) => {
        if (ctx.source.account) {
          outcome.account = ctx.source.account;
          outcome.region = ctx.source.region;
        }
        taken.push({ ctx, t: await take(ctx, inst, req.reason, outcome) });
      },
    )),
  );
  const deadline = clock() + cfg.waitSeconds * 1000;
  for (const { ctx, t } of taken) {
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
