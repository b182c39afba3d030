// AWS adapter (image class): the source account's EC2 instances as the image
// backup reads them: the instances there are, one instance, its configuration
// (the configuration record kept beside each image), and the images launch
// templates and instances still use (never pruned). Read only.
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  EC2Client,
  paginateDescribeInstances,
  paginateDescribeLaunchTemplates,
  paginateDescribeLaunchTemplateVersions,
  type Instance as SdkInstance,
} from '@aws-sdk/client-ec2';
import { type InstanceConfiguration, userDataSha256 } from '../domain/config-record.ts';
import { fromTagList, type TagMap } from '../domain/tags.ts';
import type { Clients } from './clients.ts';
import { isAwsError } from './errors.ts';

export interface InstanceSummary {
  id: string;
  state: string;
  tags: TagMap;
}

export interface InstancePort {
  /** Instances that are not terminated (the caller selects by tag). */
  listInstances(): Promise<InstanceSummary[]>;
  getInstance(id: string): Promise<InstanceSummary | undefined>;
  /** Everything the configuration record holds; user data only as its hash. */
  getConfiguration(instanceId: string): Promise<InstanceConfiguration>;
  /** Image id → why it is in use (a launch template version, a non-terminated instance). */
  imagesInUse(region?: string): Promise<Map<string, string>>;
}

/** Instances that are not terminated (a function of its own: the restore plan's listing reads only this). */
export async function listInstances(clients: Clients): Promise<InstanceSummary[]> {
  const out: InstanceSummary[] = [];
  const filters = [{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }];
  for await (const page of paginateDescribeInstances({ client: clients.get(EC2Client) }, { Filters: filters })) {
    for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.push(summary(i));
  }
  return out;
}

export class Ec2Instances implements InstancePort {
  constructor(protected readonly clients: Clients) {}

  protected ec2(region?: string): EC2Client {
    return this.clients.get(EC2Client, region);
  }

  listInstances(): Promise<InstanceSummary[]> {
    return listInstances(this.clients);
  }

  private async rawInstance(id: string): Promise<SdkInstance | undefined> {
    try {
      const r = await this.ec2().send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      return r.Reservations?.[0]?.Instances?.[0];
    } catch (err) {
      if (isAwsError(err, 'notFound')) return undefined;
      throw err;
    }
  }

  async getInstance(id: string): Promise<InstanceSummary | undefined> {
    const i = await this.rawInstance(id);
    return i ? summary(i) : undefined;
  }

  async getConfiguration(instanceId: string): Promise<InstanceConfiguration> {
    const i = await this.rawInstance(instanceId);
    if (!i) throw new Error(`instance ${instanceId} not found`);
    const ud = await this.ec2().send(
      new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }),
    );
    const volumeIds = (i.BlockDeviceMappings ?? [])
      .map((b) => b.Ebs?.VolumeId)
      .filter((v): v is string => Boolean(v));
    const volumes = new Map<
      string,
      { size?: number; type?: string; encrypted?: boolean; kmsKeyId?: string }
    >();
    if (volumeIds.length > 0) {
      const v = await this.ec2().send(new DescribeVolumesCommand({ VolumeIds: volumeIds }));
      for (const vol of v.Volumes ?? []) {
        if (vol.VolumeId)
          volumes.set(vol.VolumeId, {
            size: vol.Size,
            type: vol.VolumeType,
            encrypted: vol.Encrypted,
            kmsKeyId: vol.KmsKeyId,
          });
      }
    }
    return {
      instanceId,
      state: i.State?.Name ?? 'unknown',
      instanceType: i.InstanceType ?? 'unknown',
      sourceImageId: i.ImageId ?? 'unknown',
      architecture: i.Architecture,
      platform: i.PlatformDetails ?? i.Platform,
      vpcId: i.VpcId,
      subnetId: i.SubnetId,
      availabilityZone: i.Placement?.AvailabilityZone,
      securityGroups: (i.SecurityGroups ?? [])
        .map((g) => ({ id: g.GroupId ?? '', name: g.GroupName }))
        .sort((a, b) => a.id.localeCompare(b.id)),
      iamInstanceProfile: i.IamInstanceProfile?.Arn,
      keyName: i.KeyName,
      blockDevices: (i.BlockDeviceMappings ?? []).map((b) => {
        const vol = b.Ebs?.VolumeId ? volumes.get(b.Ebs.VolumeId) : undefined;
        return {
          device: b.DeviceName ?? '',
          volumeId: b.Ebs?.VolumeId,
          sizeGiB: vol?.size,
          volumeType: vol?.type,
          encrypted: vol?.encrypted,
          kmsKeyId: vol?.kmsKeyId,
          deleteOnTermination: b.Ebs?.DeleteOnTermination,
        };
      }),
      tags: fromTagList(i.Tags),
      userDataSha256: userDataSha256(ud.UserData?.Value),
    };
  }

  async imagesInUse(region?: string): Promise<Map<string, string>> {
    const used = new Map<string, string>();
    const client = this.ec2(region);
    // Every version, not only $Default/$Latest: Auto Scaling groups may pin an old one.
    for await (const page of paginateDescribeLaunchTemplates({ client }, {})) {
      for (const lt of page.LaunchTemplates ?? []) {
        for await (const vp of paginateDescribeLaunchTemplateVersions(
          { client },
          { LaunchTemplateId: lt.LaunchTemplateId },
        )) {
          for (const v of vp.LaunchTemplateVersions ?? []) {
            const id = v.LaunchTemplateData?.ImageId;
            if (id?.startsWith('ami-') && !used.has(id)) {
              used.set(
                id,
                `referenced by launch template ${lt.LaunchTemplateName ?? lt.LaunchTemplateId} version ${v.VersionNumber}`,
              );
            }
          }
        }
      }
    }
    const filters = [{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }];
    for await (const page of paginateDescribeInstances({ client }, { Filters: filters })) {
      for (const r of page.Reservations ?? []) {
        for (const i of r.Instances ?? []) {
          if (i.ImageId && !used.has(i.ImageId))
            used.set(i.ImageId, `in use by instance ${i.InstanceId} (${i.State?.Name})`);
        }
      }
    }
    return used;
  }
}

function summary(i: SdkInstance): InstanceSummary {
  return { id: i.InstanceId ?? '', state: i.State?.Name ?? 'unknown', tags: fromTagList(i.Tags) };
}
