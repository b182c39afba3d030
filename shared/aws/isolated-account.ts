// AWS adapter (validation): what the checks read in the isolated account:
// restored objects, and the state of instances launched from a restored image.
import { DescribeInstanceStatusCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ContentAdapter } from './content.ts';
import type { IsolatedAccount } from './db-access.ts';

export async function* readFromIsolated(
  target: IsolatedAccount,
  bucket: string,
  key: string,
): AsyncIterable<Uint8Array> {
  const out = await target.clients
    .get(S3Client, target.region)
    .send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  yield* out.Body as AsyncIterable<Uint8Array>;
}

/** Every key under the prefix of a bucket in the isolated account. */
export function listIsolatedKeys(target: IsolatedAccount, bucket: string, prefix: string): Promise<string[]> {
  return new S3ContentAdapter(target.clients, target.region).listKeys(bucket, prefix);
}

/** A launched instance as the image check judges it ('unknown' where EC2 did not say). */
export interface InstanceView {
  id: string;
  state: string;
  systemStatus: string;
  instanceStatus: string;
  subnetId?: string;
  publicIp?: string;
}

export async function describeInstances(target: IsolatedAccount, ids: string[]): Promise<InstanceView[]> {
  const ec2 = target.clients.get(EC2Client, target.region);
  const status = await ec2.send(
    new DescribeInstanceStatusCommand({ InstanceIds: ids, IncludeAllInstances: true }),
  );
  const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  const instances = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  return ids.map((id) => {
    const s = status.InstanceStatuses?.find((x) => x.InstanceId === id);
    const inst = instances.find((i) => i.InstanceId === id);
    return {
      id,
      state: s?.InstanceState?.Name ?? 'unknown',
      systemStatus: s?.SystemStatus?.Status ?? 'unknown',
      instanceStatus: s?.InstanceStatus?.Status ?? 'unknown',
      subnetId: inst?.SubnetId,
      publicIp: inst?.PublicIpAddress,
    };
  });
}
