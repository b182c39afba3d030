import { asFunction, operatorClients } from '../../local/iam/principals.ts';
// The image restore step and the image inventory against moto: list kura's
// images newest first, launch one in the isolated account (reached by
// AssumeRole) where it cannot reach out, find it again on a retry, clean up.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { amiBackup as run } from '../support/functions.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { fromTagList } from '../../shared/domain/tags.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { imageRestoreStep } from '../../shared/restore/image.ts';
import { connectIsolated, ensureIsolatedNetwork } from '../../shared/restore/isolated-network.ts';
import type { IsolatedTarget } from '../../shared/restore/types.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
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
import { emulatorClients, uniqueSuffix } from '../support/emulator.ts';

let clients: Clients;
let estate: Estate;
let policy: Policy;
let web: string;
let target: IsolatedTarget;

const week = (n: number) => new Date(Date.UTC(2026, 8, 5, 19, 0) + n * 7 * 86_400_000);
const deps = () => ({ policy, clients });

async function isolatedInstance(id: string) {
  const r = await target.clients.get(EC2Client).send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return r.Reservations?.[0]?.Instances?.[0];
}

beforeAll(async () => {
  clients = emulatorClients();
  estate = await createEstate(clients);
  policy = imagePolicy(await testVault(clients));
  web = await launch(clients, estate, { policy, type: 't3.large' });
  for (const w of [0, 1]) await run(syntheticScheduledEvent(week(w)), { policy, clients });
  target = await connectIsolated(await asFunction('restore', deps()));
  target.network = await ensureIsolatedNetwork(target.clients, target.region);
});

describe('image restore step', () => {
  it('lists the images of an instance newest first, and the closest one at or before a time', async () => {
    const all = await imageRestoreStep.list(await asFunction('restore', deps()), { source: web });
    const before = await imageRestoreStep.list(await asFunction('restore', deps()), {
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
    await run(syntheticScheduledEvent(week(1), { instance: untagged, reason: 'one-off' }), {
      policy,
      clients,
    });

    const sources = new Set((await imageRestoreStep.list(deps())).map((r) => r.source));

    expect(sources.has(web)).toBe(true);
    expect(sources.has(untagged)).toBe(false);
  });

  it('launches the image in the isolated network with its recorded instance type, and finds it again on a retry', async () => {
    // Prepare
    const [rp] = await imageRestoreStep.list(await asFunction('restore', deps()), { source: web });
    if (!rp) throw new Error('no recovery point');
    const runId = `r${uniqueSuffix()}`;

    // Act
    const item = await imageRestoreStep.restore(await asFunction('restore', deps()), target, rp, {
      runId,
      purpose: 'validation',
      pollSeconds: 0,
    });
    const again = await imageRestoreStep.restore(await asFunction('restore', deps()), target, rp, {
      runId,
      purpose: 'validation',
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

    await imageRestoreStep.cleanup(target, item.resources);
    await imageRestoreStep.cleanup(target, item.resources);
    expect((await isolatedInstance(res?.id ?? ''))?.State?.Name).toMatch(/shutting-down|terminated/);
  });

  it('refuses a security group with ingress before anything is shared or launched', async () => {
    const [rp] = await imageRestoreStep.list(await asFunction('restore', deps()), { source: web });
    if (!rp || !target.network) throw new Error('no recovery point or network');
    // The isolated account's administrator (kura-restore cannot) adds an open group.
    const ec2 = (await operatorClients(target.accountId, target.region)).get(EC2Client);
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

    const attempt = imageRestoreStep.restore(await asFunction('restore', deps()), open, rp, {
      runId: `x${uniqueSuffix()}`,
    });

    await expect(attempt).rejects.toThrow(InputError);
    await expect(attempt).rejects.toThrow(/has 1 ingress rule\(s\); expected none/);
  });
});

describe('image inventory', () => {
  it('lists kura images with their source, time and state', async () => {
    const items = (await imageInventory(deps())).filter((i) => i.source === web);

    expect(items.map((i) => [i.class, i.time, i.status])).toEqual(
      expect.arrayContaining([
        ['image', week(0).toISOString(), 'available'],
        ['image', week(1).toISOString(), 'available'],
      ]),
    );
    expect(items.map((i) => i.id).sort()).toEqual((await imagesOf(clients, web)).map((i) => i.id).sort());
  });
});
