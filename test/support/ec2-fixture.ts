// Test support (image class): a small EC2 estate on the shared moto server —
// a VPC with two security groups, instances launched into it, and helpers to
// look at images and snapshots as AWS reports them.
import {
  CreateImageCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { Clients } from '../../shared/aws/clients.ts';
import { ensureVault } from '../../local/vault.ts';
import { fromTagList, type TagMap } from '../../shared/domain/tags.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { testPolicy, uniqueSuffix } from './emulator.ts';

/** Any id works: moto does not validate the AMI an instance is launched from. */
export const BASE_AMI = 'ami-12c6146b';

export interface Estate {
  vpcId: string;
  subnetId: string;
  sgWeb: { id: string; name: string };
  sgApp: { id: string; name: string };
}

export async function createEstate(clients: Clients, region?: string): Promise<Estate> {
  const ec2 = clients.get(EC2Client, region);
  const suffix = uniqueSuffix();
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.42.1.0/24' }));
  const sg = async (name: string) => {
    const r = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId }),
    );
    return { id: r.GroupId ?? '', name };
  };
  return {
    vpcId,
    subnetId: subnet.Subnet?.SubnetId ?? '',
    sgWeb: await sg(`web-${suffix}`),
    sgApp: await sg(`app-${suffix}`),
  };
}

export async function launch(
  clients: Clients,
  estate: Estate,
  opts: { policy?: Policy; type?: string; userData?: string; name?: string; kmsKeyId?: string } = {},
): Promise<string> {
  const tags = [
    { Key: 'Name', Value: opts.name ?? `web-${uniqueSuffix()}` },
    { Key: 'env', Value: 'prod' },
  ];
  if (opts.policy) tags.push({ Key: opts.policy.selector.tagKey, Value: opts.policy.selector.tagValue });
  const r = await clients.get(EC2Client).send(
    new RunInstancesCommand({
      ImageId: BASE_AMI,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: (opts.type ?? 't3.micro') as never,
      SubnetId: estate.subnetId,
      SecurityGroupIds: [estate.sgWeb.id],
      UserData: Buffer.from(opts.userData ?? '#!/bin/sh\nsystemctl enable nginx\n').toString('base64'),
      BlockDeviceMappings: [
        {
          DeviceName: '/dev/xvda',
          Ebs: {
            VolumeSize: 20,
            VolumeType: 'gp3',
            ...(opts.kmsKeyId ? { Encrypted: true, KmsKeyId: opts.kmsKeyId } : {}),
          },
        },
      ],
      TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
    }),
  );
  return r.Instances?.[0]?.InstanceId ?? '';
}

export interface ImageView {
  id: string;
  name: string;
  state: string;
  tags: TagMap;
  snapshotIds: string[];
}

/** Own images whose name starts with kura-<instance>- or that are tagged with the instance as source. */
export async function imagesOf(clients: Clients, instanceId: string, region?: string): Promise<ImageView[]> {
  const r = await clients.get(EC2Client, region).send(new DescribeImagesCommand({ Owners: ['self'] }));
  return (r.Images ?? [])
    .filter(
      (i) =>
        i.SourceInstanceId === instanceId ||
        i.Name?.startsWith(`kura-${instanceId}-`) ||
        fromTagList(i.Tags)['kura:source'] === instanceId,
    )
    .map((i) => ({
      id: i.ImageId ?? '',
      name: i.Name ?? '',
      state: i.State ?? '',
      tags: fromTagList(i.Tags),
      snapshotIds: (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId ?? '').filter(Boolean),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function snapshotExists(
  clients: Clients,
  snapshotId: string,
  region?: string,
): Promise<boolean> {
  const r = await clients.get(EC2Client, region).send(
    new DescribeSnapshotsCommand({
      OwnerIds: ['self'],
      Filters: [{ Name: 'snapshot-id', Values: [snapshotId] }],
    }),
  );
  return (r.Snapshots ?? []).length > 0;
}

export async function snapshotTags(clients: Clients, snapshotId: string, region?: string): Promise<TagMap> {
  const r = await clients
    .get(EC2Client, region)
    .send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
  return fromTagList(r.Snapshots?.[0]?.Tags);
}

export async function launchPermissions(clients: Clients, imageId: string): Promise<string[]> {
  const r = await clients
    .get(EC2Client)
    .send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }));
  return (r.LaunchPermissions ?? []).map((p) => p.UserId ?? p.Group ?? '');
}

export async function volumePermissions(clients: Clients, snapshotId: string): Promise<string[]> {
  const r = await clients
    .get(EC2Client)
    .send(
      new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }),
    );
  return (r.CreateVolumePermissions ?? []).map((p) => p.UserId ?? p.Group ?? '');
}

/** An operator's own image (not kura's), optionally with a kura-like name and tags. */
export async function operatorImage(
  clients: Clients,
  instanceId: string,
  name: string,
  tags: TagMap = {},
): Promise<string> {
  const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  const r = await clients.get(EC2Client).send(
    new CreateImageCommand({
      InstanceId: instanceId,
      Name: name,
      NoReboot: true,
      ...(list.length ? { TagSpecifications: [{ ResourceType: 'image', Tags: list }] } : {}),
    }),
  );
  return r.ImageId ?? '';
}

/**
 * A policy for image tests: images on, no DR copy or sharing unless asked, no
 * wait (moto images are available at once), and a vault bucket of the file's own.
 */
export function imagePolicy(bucket: string, overrides: (p: Policy) => void = () => {}): Policy {
  return testPolicy((p) => {
    p.images = {
      generations: 3,
      reboot: false,
      copyToDrRegion: false,
      shareWithIsolatedAccount: false,
      waitSeconds: 0,
      stuckAfterHours: 24,
      keepInSource: 1,
    };
    p.vault.bucket = bucket;
    overrides(p);
  });
}

/** A vault bucket of the test file's own, with every protection ensureVault applies. */
export async function testVault(clients: Clients): Promise<string> {
  const bucket = `kura-vault-ami-${uniqueSuffix()}`;
  await ensureVault(
    clients,
    testPolicy((p) => {
      p.vault.bucket = bucket;
    }),
  );
  return bucket;
}
