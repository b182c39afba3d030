// The image restore step and the image inventory against the emulator: list
// kura's images newest first, launch one in the isolated account (reached by
// AssumeRole) where it cannot reach out, its volumes re-encrypted with the
// isolated key, tagged and deleted with it; find it again on a retry, clean
// up, and find the untagged volumes an older kura launch left behind.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { operatorClients } from '../../local/iam/principals.ts';
import { Ec2ImageAdapter } from '../../shared/aws/ec2-images.ts';
import { amiBackup as run, asRestoreItem, asRestorePlan } from '../support/functions.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { fromTagList } from '../../shared/domain/tags.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { connectIsolated } from '../../shared/restore/isolated-network.ts';
import { listManagedInIsolated } from '../../shared/aws/isolated-leftovers.ts';
import type { IsolatedTarget } from '../../shared/restore/types.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { estatePorts } from '../../shared/edge/report-ports.ts';
import { imageInventory } from '../../shared/usecases/image-inventory.ts';
import {
  createEstate,
  type Estate,
  imagePolicy,
  imagesOf,
  launch,
  launchPermissions,
  testVault,
} from '../support/ec2-fixture.ts';
import { clock, emulatorClients, uniqueSuffix } from '../support/emulator.ts';
import { requestsOf } from '../support/iam.ts';
import { ensureIsolatedKey } from '../../shared/aws/isolated-storage.ts';
import { ensureIsolatedNetwork } from '../../shared/aws/isolated-network.ts';
import { imageRestoreStep } from '../../shared/edge/restore-steps.ts';

let clients: Clients;
let estate: Estate;
let policy: Policy;
let web: string;
let target: IsolatedTarget;

const week = (n: number) => new Date(Date.UTC(2026, 8, 5, 19, 0) + n * 7 * 86_400_000);
const deps = () => ({ policy, clients });
// As on AWS: the restore machine's plan lists the images (`restore`), the image function restores one.
const planner = () => asRestorePlan(deps());
const imageFn = () => asRestoreItem('image', deps());

async function isolatedVolumes(ids: string[]) {
  const r = await target.clients
    .get(EC2Client)
    .send(new DescribeVolumesCommand({ Filters: [{ Name: 'volume-id', Values: ids }] }));
  return r.Volumes ?? [];
}

/** A customer key of the backup account whose key policy lets `account` use it as EBS does with a shared snapshot's key. */
async function sharedKey(account: string): Promise<string> {
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Owner',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::123456789012:root' },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'IsolatedAccountThroughEbs',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: [
          'kms:DescribeKey',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:CreateGrant',
        ],
        Resource: '*',
      },
    ],
  };
  const k = await clients.get(KMSClient).send(new CreateKeyCommand({ Policy: JSON.stringify(policy) }));
  return k.KeyMetadata?.Arn ?? '';
}

async function isolatedKeyArn(): Promise<string> {
  return ensureIsolatedKey(target.clients, target.region);
}

async function isolatedInstance(id: string) {
  const r = await target.clients.get(EC2Client).send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return r.Reservations?.[0]?.Instances?.[0];
}

beforeAll(async () => {
  clients = emulatorClients();
  estate = await createEstate(clients);
  policy = imagePolicy(await testVault(clients));
  web = await launch(clients, estate, { policy, type: 't3.large' });
  for (const w of [0, 1]) {
    clock.set(week(w));
    await run(syntheticScheduledEvent(week(w)), { policy, clients });
  }
  // A day later AWS has finished both images.
  clock.set(new Date(week(1).getTime() + 86_400_000));
  target = await connectIsolated(await imageFn());
  target.network = await ensureIsolatedNetwork(target.clients, target.region);
});

describe('image restore step', () => {
  it('lists the images of an instance newest first, and the closest one at or before a time', async () => {
    const all = await imageRestoreStep.list(await planner(), { source: web });
    const before = await imageRestoreStep.list(await planner(), {
      source: web,
      before: new Date(week(1).getTime() - 1),
    });

    expect(all.map((r) => r.time)).toEqual([week(1).toISOString(), week(0).toISOString()]);
    expect(all[0]).toMatchObject({
      class: 'image',
      source: web,
      region: 'ap-northeast-1',
      details: { name: `kura-${web}-202609121900` },
    });
    expect(before.map((r) => r.time)).toEqual([week(0).toISOString()]);
  });

  it('lists images of selected instances only when no source is named', async () => {
    const untagged = await launch(clients, estate, {});
    const now = clock.now();
    await run(syntheticScheduledEvent(week(1), { instance: untagged, reason: 'one-off' }), {
      policy,
      clients,
    });
    clock.set(new Date(now.getTime() + 3_600_000));

    const sources = new Set((await imageRestoreStep.list(await planner())).map((r) => r.source));

    expect(sources.has(web)).toBe(true);
    expect(sources.has(untagged)).toBe(false);
  });

  it('launches the image in the isolated network with its recorded instance type, and finds it again on a retry', async () => {
    // Prepare
    const [rp] = await imageRestoreStep.list(await planner(), { source: web });
    if (!rp) throw new Error('no recovery point');
    const runId = `r${uniqueSuffix()}`;

    // Act
    const item = await imageRestoreStep.restore(await imageFn(), target, rp, {
      runId,
      purpose: 'restore',
      pollSeconds: 0,
    });
    const again = await imageRestoreStep.restore(await imageFn(), target, rp, {
      runId,
      purpose: 'restore',
      pollSeconds: 0,
    });

    // Assess
    const [res] = item.resources;
    expect(res).toMatchObject({
      type: 'AWS::EC2::Instance',
      account: '210987654321',
      region: 'ap-northeast-1',
    });
    expect(again.resources).toEqual(item.resources);
    const inst = await isolatedInstance(res?.id ?? '');
    expect(inst?.ImageId).toBe(rp.id);
    expect(inst?.InstanceType).toBe('t3.large');
    expect(inst?.SubnetId).toBe(target.network?.subnetIds[0]);
    expect(inst?.SecurityGroups?.map((g) => g.GroupId)).toEqual([target.network?.securityGroupId]);
    expect(inst?.IamInstanceProfile).toBeUndefined();
    expect(fromTagList(inst?.Tags)).toMatchObject({
      'kura:managed': 'true',
      'kura:run': runId,
      'kura:copy-of': `ap-northeast-1:${rp.id}`,
    });
    expect(await launchPermissions(clients, rp.id)).toContain('210987654321');
    expect(item.durationSeconds).toBeGreaterThanOrEqual(0);
    // Its volumes: re-encrypted with the isolated account's key, tagged at launch, deleted with it.
    const volumes = await isolatedVolumes(inst?.BlockDeviceMappings?.map((b) => b.Ebs?.VolumeId ?? '') ?? []);
    expect(volumes).toHaveLength(1);
    expect(volumes[0]).toMatchObject({ Encrypted: true, KmsKeyId: await isolatedKeyArn() });
    expect(fromTagList(volumes[0]?.Tags)).toMatchObject({ 'kura:managed': 'true', 'kura:run': runId });
    expect(inst?.BlockDeviceMappings?.every((b) => b.Ebs?.DeleteOnTermination === true)).toBe(true);

    await imageRestoreStep.cleanup(target, item.resources);
    await imageRestoreStep.cleanup(target, item.resources);
    expect((await isolatedInstance(res?.id ?? ''))?.State?.Name).toMatch(/shutting-down|terminated/);
    expect(await isolatedVolumes(volumes.map((v) => v.VolumeId ?? ''))).toEqual([]);
    expect((await listManagedInIsolated(target, runId)).filter((l) => l.type === 'AWS::EC2::Volume')).toEqual(
      [],
    );
  });

  it('finds the untagged volume an older kura launch left behind, as a leftover naming its image', async () => {
    // Prepare: a launch of a shared kura image without tags on its volume and without
    // DeleteOnTermination (how servers were launched before), then terminated.
    const [rp] = await imageRestoreStep.list(await planner(), { source: web });
    if (!rp || !target.network) throw new Error('no recovery point or network');
    const image = await new Ec2ImageAdapter(clients).getImage(rp.id);
    const device = image?.blockDevices[0];
    // The isolated account's administrator launches it: kura-restore may launch only tagged instances.
    const ec2 = (await operatorClients(target.accountId, clients, target.region)).get(EC2Client);
    const launched = await ec2.send(
      new RunInstancesCommand({
        ImageId: rp.id,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 't3.micro',
        SubnetId: target.network.subnetIds[0],
        BlockDeviceMappings: [
          {
            DeviceName: device?.device,
            Ebs: { SnapshotId: device?.snapshotId, VolumeSize: device?.sizeGiB, DeleteOnTermination: false },
          },
        ],
      }),
    );
    const old = launched.Instances?.[0];
    const { TerminateInstancesCommand } = await import('@aws-sdk/client-ec2');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [old?.InstanceId ?? ''] }));
    const left = old?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId ?? '';

    // Act
    const found = await listManagedInIsolated(target);

    // Assess
    expect(found).toContainEqual(
      expect.objectContaining({
        type: 'AWS::EC2::Volume',
        id: left,
        note: expect.stringContaining(`made from ${device?.snapshotId} of the kura image kura-${web}-`),
      }),
    );
    const { DeleteVolumeCommand } = await import('@aws-sdk/client-ec2');
    await ec2.send(new DeleteVolumeCommand({ VolumeId: left }));
  });

  it('refuses a security group with ingress before anything is shared or launched', async () => {
    const [rp] = await imageRestoreStep.list(await planner(), { source: web });
    if (!rp || !target.network) throw new Error('no recovery point or network');
    // The isolated account's administrator (kura-restore cannot) adds an open group.
    const ec2 = (await operatorClients(target.accountId, clients, target.region)).get(EC2Client);
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: `open-${uniqueSuffix()}`,
        Description: 'open',
        VpcId: target.network.vpcId,
      }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sg.GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    const open = { ...target, network: { ...target.network, securityGroupId: sg.GroupId ?? '' } };

    const attempt = imageRestoreStep.restore(await imageFn(), open, rp, {
      runId: `x${uniqueSuffix()}`,
      purpose: 'restore',
    });

    await expect(attempt).rejects.toThrow(InputError);
    await expect(attempt).rejects.toThrow(/has 1 ingress rule\(s\); expected none/);
  });

  it("launches a server from the backup account's encrypted image with the keys as EBS uses them, each use allowed to the isolated role", async () => {
    // Prepare: a server whose volume a customer key encrypts, the key shared with the isolated
    // account as EBS needs (EBS user guide, "Share the KMS key used to encrypt a shared Amazon
    // EBS snapshot"), and a one-off image of it that AWS has finished a day later.
    const key = await sharedKey(target.accountId);
    const secure = await launch(clients, estate, { kmsKeyId: key });
    const at = new Date(clock.now().getTime() + 3_600_000);
    clock.set(at);
    await run(syntheticScheduledEvent(at, { instance: secure, reason: 'one-off' }), { policy, clients });
    clock.set(new Date(at.getTime() + 86_400_000));
    const [rp] = await imageRestoreStep.list(await planner(), { source: secure });
    if (!rp) throw new Error('no recovery point');
    const runId = `k${uniqueSuffix()}`;

    // Act
    const { result: item, requests } = await requestsOf(async () =>
      imageRestoreStep.restore(await imageFn(), target, rp, {
        runId,
        purpose: 'restore',
        pollSeconds: 0,
      }),
    );

    // Assess: the launch used the backup key to read and the isolated key to write, as
    // kura-restore, and the deployed policies (its role, both key policies) allowed each use.
    const launch_ = requests.find(
      (r) => r.operation === 'ec2:RunInstances' && r.principal === 'kura-restore (isolated)',
    );
    const onKey = (account: string) =>
      (launch_?.needs ?? [])
        .filter((n) => n.resource.includes(`:${account}:key/`) && n.allowed)
        .map((n) => n.action);
    expect(onKey('123456789012').sort()).toEqual([
      'kms:CreateGrant',
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:GenerateDataKeyWithoutPlaintext',
      'kms:ReEncryptFrom',
    ]);
    expect(onKey(target.accountId)).toEqual(
      expect.arrayContaining(['kms:CreateGrant', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptTo']),
    );
    const fromSnapshot = launch_?.needs.find(
      (n) => n.action === 'ec2:RunInstances' && n.resource.includes(':snapshot/'),
    );
    expect(fromSnapshot?.deciding.join(' ')).toMatch(/LaunchFromBackupAccountSnapshots/);
    const inst = await isolatedInstance(item.resources[0]?.id ?? '');
    const volumes = await isolatedVolumes(inst?.BlockDeviceMappings?.map((b) => b.Ebs?.VolumeId ?? '') ?? []);
    expect(volumes[0]).toMatchObject({ Encrypted: true, KmsKeyId: await isolatedKeyArn() });
    await imageRestoreStep.cleanup(target, item.resources);
  });
});

describe('image inventory', () => {
  it('lists kura images with their source, time and state', async () => {
    const items = (await imageInventory(deps(), estatePorts(deps()))).filter((i) => i.source === web);

    expect(items.map((i) => [i.class, i.time, i.status])).toEqual(
      expect.arrayContaining([
        ['image', week(0).toISOString(), 'available'],
        ['image', week(1).toISOString(), 'available'],
      ]),
    );
    expect(items.map((i) => i.id).sort()).toEqual((await imagesOf(clients, web)).map((i) => i.id).sort());
  });
});
