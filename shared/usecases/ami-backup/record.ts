// Use case (image class): the configuration record kept in the vault for
// each image, with what changed since the previous image of the instance.
import type { MachineImage } from '../../aws/ec2-images.ts';
import {
  buildConfigurationRecord,
  type ConfigurationRecord,
  configRecordKey,
  describeChanges,
  type InstanceConfiguration,
  parseConfigurationRecord,
} from '../../domain/config-record.ts';
import { isManaged, TAG, taggedTime } from '../../domain/tags.ts';
import type { TargetOutcome } from '../../runtime/result.ts';
import { type Context, FAILED_STATES, FUNCTION_NAME } from './context.ts';

export function previousImage(
  ctx: Context,
  instanceId: string,
  images: MachineImage[],
): MachineImage | undefined {
  return images
    .filter(
      (i) => isManaged(i.tags, 'image') && i.tags[TAG.source] === instanceId && !FAILED_STATES.has(i.state),
    )
    .filter((i) => (taggedTime(i.tags)?.getTime() ?? Infinity) < ctx.now.getTime())
    .sort((a, b) => (taggedTime(b.tags)?.getTime() ?? 0) - (taggedTime(a.tags)?.getTime() ?? 0))[0];
}

export async function writeRecord(
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
