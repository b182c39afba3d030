// Handing an instance a profile passes the role inside it, and AWS authorizes that as
// iam:PassRole on the role (Service Authorization Reference, EC2 RunInstances and
// AssociateIamInstanceProfile). The IAM front layer must ask for it, or a policy without the
// grant would pass here and fail on AWS.
import { describe, expect, it } from 'vitest';
import { needsOf } from '../../local/iam/actions.ts';
import type { AwsRequest } from '../../local/iam/request.ts';

const ec2Request = (operation: string, fields: Record<string, string>): AwsRequest => ({
  service: 'ec2',
  protocol: 'ec2',
  operation,
  accessKey: 'AKIA',
  region: 'ap-northeast-1',
  method: 'POST',
  path: '/',
  query: new URLSearchParams(),
  headers: {},
  form: new URLSearchParams({ Action: operation.split(':')[1] ?? '', ...fields }),
  json: {},
  body: Buffer.alloc(0),
});
const ctx = { account: '222222222222', region: 'ap-northeast-1' };

describe('passing an instance profile', () => {
  it('asks for iam:PassRole on the profile when RunInstances names one', () => {
    const needs = needsOf(
      ec2Request('ec2:RunInstances', { ImageId: 'ami-1', 'IamInstanceProfile.Name': 'kura-access' }),
      ctx,
    );
    expect(needs.filter((n) => n.action === 'iam:PassRole')).toEqual([
      { action: 'iam:PassRole', resource: '*', passRoleOfProfile: 'kura-access' },
    ]);
  });

  it('asks for it by ARN on AssociateIamInstanceProfile, and not at all without a profile', () => {
    const arn = 'arn:aws:iam::222222222222:instance-profile/kura-access';
    const assoc = needsOf(
      ec2Request('ec2:AssociateIamInstanceProfile', { InstanceId: 'i-1', 'IamInstanceProfile.Arn': arn }),
      ctx,
    );
    expect(assoc.find((n) => n.action === 'iam:PassRole')?.passRoleOfProfile).toBe(arn);
    const plain = needsOf(ec2Request('ec2:RunInstances', { ImageId: 'ami-1' }), ctx);
    expect(plain.some((n) => n.action === 'iam:PassRole')).toBe(false);
  });
});
