// AWS adapter (image class): kura's own machine images as EC2 describes them,
// each with its EBS snapshots (their tags and encryption), in one region.
import {
  EC2Client,
  type Filter,
  paginateDescribeImages,
  paginateDescribeSnapshots,
  type Image as SdkImage,
} from '@aws-sdk/client-ec2';
import { fromTagList, type TagMap } from '../domain/tags.ts';
import type { Clients } from './clients.ts';

export type ImageState =
  | 'pending'
  | 'available'
  | 'failed'
  | 'invalid'
  | 'deregistered'
  | 'transient'
  | 'error'
  | 'disabled'
  | string;

export interface ImageSnapshot {
  id: string;
  tags: TagMap;
  encrypted: boolean;
  kmsKeyId?: string;
}

export interface ImageBlockDevice {
  device: string;
  snapshotId?: string;
  sizeGiB?: number;
  volumeType?: string;
}

export interface MachineImage {
  id: string;
  name: string;
  region: string;
  state: ImageState;
  stateReason?: string;
  tags: TagMap;
  sourceInstanceId?: string;
  description?: string;
  /** When EC2 created the image (for a copy: when it was copied). */
  createdAt?: Date;
  /** Snapshot ids named in the image's block device mappings. */
  snapshotIds: string[];
  /** The image's EBS block device mappings (what a launch from it creates). */
  blockDevices: ImageBlockDevice[];
  /** Those snapshots as describe finds them (a missing one is left out). */
  snapshots: ImageSnapshot[];
}

/** Own images matching the filters, with their snapshots as describe finds them. */
export async function describeImages(
  clients: Clients,
  filters: Filter[],
  region?: string,
): Promise<MachineImage[]> {
  const raw: SdkImage[] = [];
  for await (const page of paginateDescribeImages(
    { client: clients.get(EC2Client, region) },
    { Owners: ['self'], Filters: filters },
  )) {
    raw.push(...(page.Images ?? []));
  }
  return withSnapshots(clients, raw, region ?? clients.region);
}

async function withSnapshots(clients: Clients, raw: SdkImage[], region: string): Promise<MachineImage[]> {
  const ids = raw.flatMap((i) =>
    (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId).filter((s): s is string => Boolean(s)),
  );
  const snaps = new Map<string, ImageSnapshot>();
  // A filter, not SnapshotIds: a snapshot that is already gone must not fail the whole call.
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    for await (const page of paginateDescribeSnapshots(
      { client: clients.get(EC2Client, region) },
      { OwnerIds: ['self'], Filters: [{ Name: 'snapshot-id', Values: chunk }] },
    )) {
      for (const s of page.Snapshots ?? []) {
        if (s.SnapshotId)
          snaps.set(s.SnapshotId, {
            id: s.SnapshotId,
            tags: fromTagList(s.Tags),
            encrypted: Boolean(s.Encrypted),
            kmsKeyId: s.KmsKeyId,
          });
      }
    }
  }
  return raw.map((i) => {
    const snapshotIds = (i.BlockDeviceMappings ?? [])
      .map((b) => b.Ebs?.SnapshotId)
      .filter((s): s is string => Boolean(s));
    return {
      id: i.ImageId ?? '',
      name: i.Name ?? '',
      region,
      state: i.State ?? 'unknown',
      stateReason: i.StateReason?.Message,
      tags: fromTagList(i.Tags),
      sourceInstanceId: i.SourceInstanceId,
      description: i.Description,
      createdAt: i.CreationDate ? new Date(i.CreationDate) : undefined,
      snapshotIds,
      blockDevices: (i.BlockDeviceMappings ?? [])
        .filter((b) => b.Ebs && b.DeviceName)
        .map((b) => ({
          device: b.DeviceName ?? '',
          snapshotId: b.Ebs?.SnapshotId,
          sizeGiB: b.Ebs?.VolumeSize,
          volumeType: b.Ebs?.VolumeType,
        })),
      snapshots: snapshotIds.map((id) => snaps.get(id)).filter((s): s is ImageSnapshot => Boolean(s)),
    };
  });
}
