// AWS adapter: the EC2 calls a restore makes in the isolated account:
// launching a restored image where it cannot reach out, finding and reading
// the instances a run launched, and terminating them.
import {
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  paginateDescribeInstances,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { fromTagList, type TagMap, toTagList } from '../domain/tags.ts';
import type { Clients } from './clients.ts';
import type { ImageBlockDevice } from './ec2-images.ts';
import { tolerate } from './errors.ts';

export interface IsolatedLaunch {
  imageId: string;
  instanceType: string;
  subnetId: string;
  securityGroupId: string;
  tags: TagMap;
  /** The image's volumes: each is created re-encrypted with `kmsKeyId` and deleted with the instance. */
  blockDevices: ImageBlockDevice[];
  /** The isolated account's key (the source account's keys stay the source's). */
  kmsKeyId: string;
}

/** How many ingress rules a security group has (a restored server's group must have none). */
export async function ingressRuleCount(
  clients: Clients,
  securityGroupId: string,
  region?: string,
): Promise<number> {
  const sg = await clients
    .get(EC2Client, region)
    .send(new DescribeSecurityGroupsCommand({ GroupIds: [securityGroupId] }));
  return sg.SecurityGroups?.[0]?.IpPermissions?.length ?? 0;
}

export interface IsolatedInstance {
  id: string;
  state: string;
  privateIp?: string;
  tags: TagMap;
}

/** Instances in the account `clients` act in that carry all these tags (not terminated). */
export async function findInstancesByTags(
  clients: Clients,
  tags: TagMap,
  region?: string,
): Promise<IsolatedInstance[]> {
  const filters = [
    ...Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
    { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
  ];
  const out: IsolatedInstance[] = [];
  for await (const page of paginateDescribeInstances(
    { client: clients.get(EC2Client, region) },
    { Filters: filters },
  )) {
    for (const r of page.Reservations ?? []) {
      for (const i of r.Instances ?? []) {
        out.push({
          id: i.InstanceId ?? '',
          state: i.State?.Name ?? 'unknown',
          privateIp: i.PrivateIpAddress,
          tags: fromTagList(i.Tags),
        });
      }
    }
  }
  return out;
}

export async function describeIsolatedInstance(
  clients: Clients,
  id: string,
  region?: string,
): Promise<IsolatedInstance | undefined> {
  const r = await tolerate(['notFound'], () =>
    clients.get(EC2Client, region).send(new DescribeInstancesCommand({ InstanceIds: [id] })),
  );
  const i = r?.Reservations?.[0]?.Instances?.[0];
  return i
    ? { id, state: i.State?.Name ?? 'unknown', privateIp: i.PrivateIpAddress, tags: fromTagList(i.Tags) }
    : undefined;
}

export async function launchIsolated(clients: Clients, l: IsolatedLaunch, region?: string): Promise<string> {
  const r = await clients.get(EC2Client, region).send(
    new RunInstancesCommand({
      ImageId: l.imageId,
      InstanceType: l.instanceType as never,
      MinCount: 1,
      MaxCount: 1,
      SubnetId: l.subnetId,
      SecurityGroupIds: [l.securityGroupId],
      // No user data, no instance profile: the restored server gets nothing of production's identity.
      MetadataOptions: { HttpTokens: 'required' },
      // Every volume re-encrypted with the isolated account's key (EBS re-encrypts a shared
      // snapshot at launch), deleted with the instance, and tagged from the first moment, so
      // that termination leaves nothing and nothing is ever untagged.
      BlockDeviceMappings: l.blockDevices.map((b) => ({
        DeviceName: b.device,
        Ebs: {
          SnapshotId: b.snapshotId,
          VolumeSize: b.sizeGiB,
          VolumeType: b.volumeType as never,
          Encrypted: true,
          KmsKeyId: l.kmsKeyId,
          DeleteOnTermination: true,
        },
      })),
      TagSpecifications: [
        { ResourceType: 'instance', Tags: toTagList(l.tags) },
        { ResourceType: 'volume', Tags: toTagList(l.tags) },
      ],
    }),
  );
  const id = r.Instances?.[0]?.InstanceId;
  if (!id) throw new Error(`RunInstances of ${l.imageId} returned no instance`);
  return id;
}

export async function terminateInstance(clients: Clients, id: string, region?: string): Promise<void> {
  // Already gone: the goal is reached.
  await tolerate(['notFound'], () =>
    clients.get(EC2Client, region).send(new TerminateInstancesCommand({ InstanceIds: [id] })),
  );
}
