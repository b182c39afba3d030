// Pure code of the image class: configuration diffs, the sharing pre-flight,
// the on-demand request, the DR target.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildConfigurationRecord,
  configRecordKey,
  describeChanges,
  diffConfigurations,
  type InstanceConfiguration,
  userDataSha256,
} from '../../shared/domain/config-record.ts';
import { sharingBlockers } from '../../shared/domain/image-sharing.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { InputError, PolicyError } from '../../shared/runtime/errors.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { amiBackupRequest, drTarget } from '../../shared/usecases/ami-backup.ts';

const base: InstanceConfiguration = {
  instanceId: 'i-0123456789abcdef0',
  state: 'running',
  instanceType: 't3.micro',
  sourceImageId: 'ami-1',
  subnetId: 'subnet-1',
  securityGroups: [{ id: 'sg-1', name: 'web' }],
  iamInstanceProfile: 'arn:aws:iam::123456789012:instance-profile/web',
  blockDevices: [
    { device: '/dev/xvda', volumeId: 'vol-1', sizeGiB: 20, volumeType: 'gp3', encrypted: false },
  ],
  tags: { Name: 'web-1', env: 'prod', 'aws:cloudformation:stack-name': 'shop' },
  userDataSha256: 'a'.repeat(64),
};

describe('configuration diff', () => {
  it('finds nothing when the configuration is the same', () => {
    expect(diffConfigurations(base, structuredClone(base))).toEqual([]);
  });

  it('describes every kind of change in one readable line each', () => {
    const after: InstanceConfiguration = {
      ...structuredClone(base),
      instanceType: 't3.large',
      securityGroups: [{ id: 'sg-2', name: 'admin' }],
      iamInstanceProfile: undefined,
      blockDevices: [
        { device: '/dev/xvda', volumeId: 'vol-1', sizeGiB: 40, volumeType: 'gp3', encrypted: false },
        { device: '/dev/sdf', volumeId: 'vol-9', sizeGiB: 100, volumeType: 'gp3', encrypted: true },
      ],
      tags: { Name: 'web-1', env: 'staging', owner: 'ops', 'aws:cloudformation:stack-name': 'other' },
      userDataSha256: 'b'.repeat(64),
    };

    expect(diffConfigurations(base, after).map((c) => c.text)).toEqual([
      'instance type: t3.micro → t3.large',
      'security group added: sg-2 (admin)',
      'security group removed: sg-1 (web)',
      'IAM instance profile: removed (was arn:aws:iam::123456789012:instance-profile/web)',
      `user data (SHA-256): ${'a'.repeat(12)} → ${'b'.repeat(12)}`,
      'block device /dev/xvda: size 20 GiB → 40 GiB',
      'block device /dev/sdf: added (100 GiB gp3 encrypted)',
      'tag env: prod → staging',
      'tag owner: set to ops',
    ]);
  });

  it('compares with the previous record only when that record was found', () => {
    const image = {
      id: 'ami-2',
      name: 'kura-x-202609061900',
      region: 'ap-northeast-1',
      time: '',
      reboot: false,
      createdBy: 'ami-backup',
    };
    const first = buildConfigurationRecord({ image, configuration: base });
    const noRecord = buildConfigurationRecord({
      image,
      configuration: base,
      previous: { name: 'kura-x-1', id: 'ami-1', time: '' },
    });
    const changed = buildConfigurationRecord({
      image,
      configuration: { ...base, instanceType: 't3.small' },
      previous: { name: 'kura-x-1', id: 'ami-1', time: '', record: first },
    });

    expect(describeChanges(first)).toEqual(['first image of this instance: nothing to compare with']);
    expect(describeChanges(noRecord)).toEqual([
      'previous image kura-x-1 has no configuration record: nothing to compare with',
    ]);
    expect(describeChanges(changed)).toEqual(['instance type: t3.micro → t3.small']);
  });

  it('hashes decoded user data and keeps records under images/<instance>/', () => {
    const ud = '#!/bin/sh\necho hi\n';
    expect(userDataSha256(Buffer.from(ud).toString('base64'))).toBe(
      createHash('sha256').update(ud).digest('hex'),
    );
    expect(userDataSha256(undefined)).toBeNull();
    expect(configRecordKey('i-1', 'kura-i-1-202609061900')).toBe('images/i-1/kura-i-1-202609061900.json');
  });
});

describe('sharing pre-flight', () => {
  const arn = (id: string) => `arn:aws:kms:ap-northeast-1:123456789012:key/${id}`;

  it('names an AWS managed key, which can never be shared', () => {
    const blockers = sharingBlockers(
      [{ keyId: 'alias/aws/ebs', arn: arn('aws-ebs'), manager: 'AWS', principalsAllowed: [] }],
      '210987654321',
    );
    expect(blockers).toEqual([expect.stringContaining(`KMS key ${arn('aws-ebs')} is AWS managed`)]);
  });

  it('names a customer-managed key that does not allow the isolated account, once', () => {
    const k = {
      keyId: arn('k1'),
      arn: arn('k1'),
      manager: 'CUSTOMER' as const,
      principalsAllowed: ['123456789012'],
    };
    expect(sharingBlockers([k, k], '210987654321')).toEqual([
      expect.stringContaining(`KMS key ${arn('k1')} does not allow account 210987654321`),
    ]);
  });

  it('lets a customer-managed key through when its policy allows the account', () => {
    const k = {
      keyId: arn('k2'),
      arn: arn('k2'),
      manager: 'CUSTOMER' as const,
      principalsAllowed: ['123456789012', '210987654321'],
    };
    expect(sharingBlockers([k], '210987654321')).toEqual([]);
  });
});

describe('ami-backup request and policy', () => {
  const at = new Date('2026-09-09T02:13:00Z');

  it('reads the instance and reason of an on-demand run', () => {
    const req = amiBackupRequest(
      syntheticScheduledEvent(at, { instance: 'i-0123456789abcdef0', reason: '  after nginx upgrade ' }),
    );
    expect(req).toEqual({ now: at, instanceId: 'i-0123456789abcdef0', reason: 'after nginx upgrade' });
  });

  it('lists every problem of a bad request', () => {
    const bad = () =>
      amiBackupRequest(
        syntheticScheduledEvent(at, { instance: 'web-1', reason: 'x'.repeat(300), extra: true }),
      );
    expect(bad).toThrow(InputError);
    try {
      bad();
    } catch (err) {
      expect((err as InputError).problems).toEqual([
        'event.detail.extra: unknown; expected only instance or reason',
        'event.detail.instance: found "web-1"; expected an EC2 instance id such as i-0123456789abcdef0',
        'event.detail.reason: 300 characters; expected at most 255 (it is stored as a tag value)',
      ]);
    }
  });

  it('copies to the database DR region with its key when images name no region', () => {
    const policy = loadPolicy();
    expect(drTarget(policy)).toEqual({ region: 'ap-southeast-1', kmsKeyId: 'alias/kura-dr' });
    if (policy.images) policy.images.drRegion = policy.region;
    expect(() => drTarget(policy)).toThrow(PolicyError);
  });
});
