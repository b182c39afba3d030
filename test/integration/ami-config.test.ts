// ami-backup configuration records against moto: what each image holds, and
// what changed since the previous image.
import { createHash } from 'node:crypto';
import { EC2Client, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { amiBackup as run } from '../support/functions.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { S3RecordStore } from '../../shared/aws/config-records.ts';
import { type ConfigurationRecord, configRecordKey } from '../../shared/domain/config-record.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { createEstate, type Estate, imagePolicy, launch, testVault } from '../support/ec2-fixture.ts';
import { emulatorClients } from '../support/emulator.ts';

let clients: Clients;
let estate: Estate;
let bucket: string;

beforeAll(async () => {
  clients = emulatorClients();
  estate = await createEstate(clients);
  bucket = await testVault(clients);
});

const invoke = (time: Date, policy: Policy, detail: Record<string, unknown> = {}) =>
  run(syntheticScheduledEvent(time, detail), { policy, clients }) as Promise<RunResult>;
const record = async (instanceId: string, imageName: string) =>
  (await new S3RecordStore(clients, bucket).get(
    configRecordKey(instanceId, imageName),
  )) as ConfigurationRecord;

describe('ami-backup configuration records', () => {
  it('records the instance configuration with a hash of the user data, never the user data', async () => {
    const policy = imagePolicy(bucket);
    const userData = '#!/bin/sh\nexport DB_PASSWORD=s3cret\n';
    const web = await launch(clients, estate, { policy, userData, name: 'web-records' });

    const result = await invoke(new Date('2026-09-06T19:00:00Z'), policy);

    const outcome = result.targets[0];
    expect(outcome?.record).toBe(`s3://${bucket}/images/${web}/kura-${web}-202609061900.json`);
    expect(outcome?.changes).toEqual(['first image of this instance: nothing to compare with']);
    const rec = await record(web, `kura-${web}-202609061900`);
    expect(rec.image).toMatchObject({
      id: outcome?.imageId,
      reboot: false,
      createdBy: 'ami-backup',
      time: '2026-09-06T19:00:00.000Z',
    });
    expect(rec.previous).toBeNull();
    expect(rec.configuration).toMatchObject({
      instanceId: web,
      instanceType: 't3.micro',
      sourceImageId: 'ami-12c6146b',
      subnetId: estate.subnetId,
      vpcId: estate.vpcId,
      securityGroups: [{ id: estate.sgWeb.id, name: estate.sgWeb.name }],
      tags: expect.objectContaining({ Name: 'web-records', env: 'prod' }),
      userDataSha256: createHash('sha256').update(userData).digest('hex'),
    });
    expect(rec.configuration.blockDevices).toContainEqual(
      expect.objectContaining({ device: '/dev/xvda', sizeGiB: 20, volumeType: 'gp3' }),
    );
    expect(JSON.stringify(rec)).not.toContain('s3cret');
  });

  it('shows a readable diff after the instance type and security group change', async () => {
    // Prepare
    const policy = imagePolicy(bucket);
    const web = await launch(clients, estate, { policy, type: 't3.micro' });
    await invoke(new Date('2026-09-06T19:00:00Z'), policy);
    const ec2 = clients.get(EC2Client);
    await ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: web, InstanceType: { Value: 't3.large' } }),
    );
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: web, Groups: [estate.sgApp.id] }));

    // Act
    const result = await invoke(new Date('2026-09-09T03:00:00Z'), policy, {
      instance: web,
      reason: 'resized for the autumn sale',
    });

    // Assess
    const expected = [
      'instance type: t3.micro → t3.large',
      `security group added: ${estate.sgApp.id} (${estate.sgApp.name})`,
      `security group removed: ${estate.sgWeb.id} (${estate.sgWeb.name})`,
    ];
    expect(result.targets[0]?.changes).toEqual(expected);
    const rec = await record(web, `kura-${web}-202609090300`);
    expect(rec.previous).toMatchObject({ name: `kura-${web}-202609061900`, recordFound: true });
    expect(rec.changes.map((c) => c.text)).toEqual(expected);
    expect(rec.changes[0]).toMatchObject({ field: 'instance type', before: 't3.micro', after: 't3.large' });
    expect(rec.image.reason).toBe('resized for the autumn sale');
  });

  it('says nothing changed when the configuration is the same', async () => {
    const policy = imagePolicy(bucket);
    const web = await launch(clients, estate, { policy });
    await invoke(new Date('2026-09-06T19:00:00Z'), policy);

    const result = await invoke(new Date('2026-09-13T19:00:00Z'), policy);

    expect(result.targets[0]?.changes).toEqual([`no configuration change since kura-${web}-202609061900`]);
  });
});
