// AWS adapter (image class): kura's machine images (AMIs) and their EBS
// snapshots: create, tag, copy to the DR region, share, deregister, delete,
// behind the ImagePort the ami-backup use case needs (with the instance reads
// of ec2-instances.ts). Decides nothing about policy. (What a restore does in
// the isolated account is in isolated-instances.ts.)
import {
  CopyImageCommand,
  CreateImageCommand,
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  type Filter,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  paginateDescribeSnapshots,
  type TagSpecification,
} from '@aws-sdk/client-ec2';
import { copyDescription } from '../domain/naming.ts';
import { fromTagList, TAG, type TagMap, toTagList } from '../domain/tags.ts';
import type { Clients } from './clients.ts';
import { describeImages, type ImageSnapshot, type MachineImage } from './ec2-image-reads.ts';
import { Ec2Instances, type InstancePort } from './ec2-instances.ts';
import { isAwsError } from './errors.ts';

export type { ImageBlockDevice, ImageSnapshot, ImageState, MachineImage } from './ec2-image-reads.ts';
export type { InstancePort, InstanceSummary } from './ec2-instances.ts';

export interface ImagePort extends InstancePort {
  findImageByName(name: string, region?: string): Promise<MachineImage | undefined>;
  getImage(id: string, region?: string): Promise<MachineImage | undefined>;
  /** Own images tagged with this kura:source, and own images named like kura's for it (lookalikes included). */
  listImages(source: string, namePrefix: string, region?: string): Promise<MachineImage[]>;
  /** Every own image tagged kura:managed=true and kura:class=image (whatever its source, even a terminated one). */
  listManagedImages(region?: string): Promise<MachineImage[]>;
  createImage(
    instanceId: string,
    name: string,
    opts: { noReboot: boolean; tags: TagMap; description: string },
  ): Promise<MachineImage>;
  /** Adds kura's tags to an image and its snapshots where they are missing (a run that stopped between the two). */
  ensureTags(image: MachineImage, tags: TagMap): Promise<MachineImage>;
  /** Polls until the image leaves `pending` or the deadline (epoch ms) passes; returns what it saw last. */
  waitForImage(id: string, deadline: number, region?: string): Promise<MachineImage | undefined>;
  copyImage(image: MachineImage, toRegion: string, tags: TagMap, kmsKeyId?: string): Promise<MachineImage>;
  /** Launch permission on the image and create-volume permission on its snapshots; true when something was added. */
  shareImage(image: MachineImage, accountId: string, region?: string): Promise<boolean>;
  deregisterImage(id: string, region?: string): Promise<void>;
  deleteSnapshot(id: string, region?: string): Promise<void>;
  /** kura's image snapshots of one source (by tags), for the orphan sweep. */
  listManagedSnapshots(source: string, region?: string): Promise<ImageSnapshot[]>;
}

/** The description kura gives its DR copy of an image: names the exact source image. */
// Re-exported for ami-backup.ts, which imports it from here (issue 16 owns that file today).
export { copyDescription };

function tagSpecs(tags: TagMap, types: ('image' | 'snapshot')[]): TagSpecification[] {
  return types.map((ResourceType) => ({ ResourceType, Tags: toTagList(tags) }));
}

/** kura's images (a function of its own: the restore plan's listing reads only this and listInstances). */
export function listManagedImages(clients: Clients, region?: string): Promise<MachineImage[]> {
  return describeImages(
    clients,
    [
      { Name: `tag:${TAG.managed}`, Values: ['true'] },
      { Name: `tag:${TAG.class}`, Values: ['image'] },
    ],
    region,
  );
}

export class Ec2ImageAdapter extends Ec2Instances implements ImagePort {
  constructor(
    clients: Clients,
    private readonly opts: { pollMs?: number } = {},
  ) {
    super(clients);
  }

  private describeImages(filters: Filter[], region?: string): Promise<MachineImage[]> {
    return describeImages(this.clients, filters, region);
  }

  async findImageByName(name: string, region?: string): Promise<MachineImage | undefined> {
    const found = await this.describeImages([{ Name: 'name', Values: [name] }], region);
    return found.find((i) => i.name === name);
  }

  async getImage(id: string, region?: string): Promise<MachineImage | undefined> {
    const found = await this.describeImages([{ Name: 'image-id', Values: [id] }], region);
    return found[0];
  }

  async listImages(source: string, namePrefix: string, region?: string): Promise<MachineImage[]> {
    const tagged = await this.describeImages([{ Name: `tag:${TAG.source}`, Values: [source] }], region);
    const named = await this.describeImages([{ Name: 'name', Values: [`${namePrefix}*`] }], region);
    const byId = new Map([...tagged, ...named].map((i) => [i.id, i]));
    return [...byId.values()];
  }

  listManagedImages(region?: string): Promise<MachineImage[]> {
    return listManagedImages(this.clients, region);
  }

  async createImage(
    instanceId: string,
    name: string,
    opts: { noReboot: boolean; tags: TagMap; description: string },
  ): Promise<MachineImage> {
    const base = {
      InstanceId: instanceId,
      Name: name,
      Description: opts.description,
      NoReboot: opts.noReboot,
    };
    let imageId: string | undefined;
    try {
      // The image and its snapshots carry kura's tags from the first moment:
      // nothing untagged (and so unprunable) is ever left behind.
      const r = await this.ec2().send(
        new CreateImageCommand({ ...base, TagSpecifications: tagSpecs(opts.tags, ['image', 'snapshot']) }),
      );
      imageId = r.ImageId;
    } catch (err) {
      imageId = await this.ownImageNamed(err, name, opts.tags);
    }
    if (!imageId) throw new Error(`CreateImage for ${instanceId} returned no image id`);
    const image = await this.getImage(imageId);
    if (!image) throw new Error(`image ${imageId} (${name}) was created but cannot be described`);
    return image;
  }

  /**
   * CreateImage is not idempotent: when the SDK retries a request whose first
   * answer was lost, AWS refuses the retry with InvalidAMIName.Duplicate. The
   * image is ours when it carries the kura tags we asked for: then the create
   * succeeded and its id is returned; anything else rethrows `err`.
   */
  private async ownImageNamed(err: unknown, name: string, tags: TagMap): Promise<string> {
    if (!isAwsError(err, 'alreadyExists')) throw err;
    const existing = await this.findImageByName(name);
    const own =
      existing?.tags[TAG.managed] === 'true' &&
      existing.tags[TAG.source] === tags[TAG.source] &&
      existing.tags[TAG.time] === tags[TAG.time];
    if (!existing || !own) throw err;
    return existing.id;
  }

  /** Adds kura's tags to an image and its snapshots where they are missing. */
  async ensureTags(image: MachineImage, tags: TagMap): Promise<MachineImage> {
    const missing = [
      ...(image.tags[TAG.managed] ? [] : [image.id]),
      ...image.snapshots.filter((s) => !s.tags[TAG.managed]).map((s) => s.id),
    ];
    if (missing.length === 0) return image;
    await this.ec2(image.region).send(new CreateTagsCommand({ Resources: missing, Tags: toTagList(tags) }));
    return (await this.getImage(image.id, image.region)) ?? image;
  }

  async waitForImage(id: string, deadline: number, region?: string): Promise<MachineImage | undefined> {
    const pollMs = this.opts.pollMs ?? 15_000;
    for (;;) {
      const image = await this.getImage(id, region);
      if (image?.state !== 'pending') return image;
      const left = deadline - this.clients.timer.now();
      if (left <= 0) return image;
      await this.clients.timer.sleep(Math.min(pollMs, left));
    }
  }

  async copyImage(
    image: MachineImage,
    toRegion: string,
    tags: TagMap,
    kmsKeyId?: string,
  ): Promise<MachineImage> {
    const encrypted = image.snapshots.some((s) => s.encrypted);
    const r = await this.ec2(toRegion).send(
      new CopyImageCommand({
        SourceImageId: image.id,
        SourceRegion: image.region,
        Name: image.name,
        Description: copyDescription(image),
        // Idempotent on AWS: a retried copy returns the same image.
        ClientToken: `${image.name}`.slice(0, 64),
        TagSpecifications: tagSpecs(tags, ['image', 'snapshot']),
        ...(encrypted || kmsKeyId ? { Encrypted: true, KmsKeyId: kmsKeyId } : {}),
      }),
    );
    if (!r.ImageId) throw new Error(`CopyImage of ${image.id} to ${toRegion} returned no image id`);
    const copy = await this.getImage(r.ImageId, toRegion);
    if (!copy) throw new Error(`copy ${r.ImageId} in ${toRegion} cannot be described`);
    return this.ensureTags(copy, tags);
  }

  async shareImage(image: MachineImage, accountId: string, region?: string): Promise<boolean> {
    const ec2 = this.ec2(region ?? image.region);
    const attr = await ec2.send(
      new DescribeImageAttributeCommand({ ImageId: image.id, Attribute: 'launchPermission' }),
    );
    let added = false;
    if (!(attr.LaunchPermissions ?? []).some((p) => p.UserId === accountId)) {
      await ec2.send(
        new ModifyImageAttributeCommand({
          ImageId: image.id,
          LaunchPermission: { Add: [{ UserId: accountId }] },
        }),
      );
      added = true;
    }
    // Snapshot permissions let the other account copy the image (and so re-encrypt it with its own key).
    for (const s of image.snapshotIds) {
      await ec2.send(
        new ModifySnapshotAttributeCommand({
          SnapshotId: s,
          Attribute: 'createVolumePermission',
          OperationType: 'add',
          UserIds: [accountId],
        }),
      );
    }
    return added;
  }

  async deregisterImage(id: string, region?: string): Promise<void> {
    try {
      await this.ec2(region).send(new DeregisterImageCommand({ ImageId: id }));
    } catch (err) {
      if (isAwsError(err, 'notFound', 'unavailable')) return;
      throw err;
    }
  }

  /**
   * Deletes a snapshot; gone already is done. EC2 keeps a snapshot "in use"
   * for a moment after its image is deregistered (InvalidSnapshot.InUse): that
   * is retried for up to a minute, then thrown for the caller to decide.
   */
  async deleteSnapshot(id: string, region?: string): Promise<void> {
    const timer = this.clients.timer;
    const until = timer.now() + 60_000;
    for (;;) {
      try {
        await this.ec2(region).send(new DeleteSnapshotCommand({ SnapshotId: id }));
        return;
      } catch (err) {
        if (isAwsError(err, 'notFound')) return;
        if (!isAwsError(err, 'inUse') || timer.now() >= until) throw err;
        await timer.sleep(5_000);
      }
    }
  }

  async listManagedSnapshots(source: string, region?: string): Promise<ImageSnapshot[]> {
    const out: ImageSnapshot[] = [];
    const filters = [
      { Name: `tag:${TAG.managed}`, Values: ['true'] },
      { Name: `tag:${TAG.class}`, Values: ['image'] },
      { Name: `tag:${TAG.source}`, Values: [source] },
    ];
    for await (const page of paginateDescribeSnapshots(
      { client: this.ec2(region) },
      { OwnerIds: ['self'], Filters: filters },
    )) {
      for (const s of page.Snapshots ?? []) {
        if (s.SnapshotId)
          out.push({
            id: s.SnapshotId,
            tags: fromTagList(s.Tags),
            encrypted: Boolean(s.Encrypted),
            kmsKeyId: s.KmsKeyId,
          });
      }
    }
    return out;
  }
}
