// Test support (deploy): CloudFormation templates as data. Reads the YAML
// short forms (!Ref, !Sub, …), resolves intrinsic functions against a stack
// that moto's CloudFormation created, and replays through each service's own
// API what moto's CloudFormation does not create (resource types it skips
// with a warning, bucket properties it ignores), with the template's own
// properties, so that the created resources can be checked as a whole.
import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  AuthorizeSecurityGroupEgressCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { PutFunctionEventInvokeConfigCommand } from '@aws-sdk/client-lambda';
import {
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { parse, type YAMLMap, type YAMLSeq } from 'yaml';
import type { Clients } from '../../shared/aws/clients.ts';
import { toS3LifecycleRule } from '../../shared/aws/vault.ts';
import type { LifecycleRule } from '../../shared/domain/lifecycle/index.ts';

/** CloudFormation properties: free-form JSON. */
export type Props = Record<string, any>;
export type CfnTemplate = {
  Parameters?: Record<string, { Default?: string }>;
  Resources: Record<string, { Type: string; Properties?: Props; DependsOn?: unknown }>;
  Outputs?: Record<string, { Value: unknown }>;
  [k: string]: unknown;
};

/**
 * What moto 5.2's CloudFormation does not create (it logs "No Moto
 * CloudFormation support" and goes on), replayed here through the services'
 * APIs. The test asserts that exactly these were skipped.
 */
export const MOTO_SKIPS = [
  'AWS::CloudWatch::Alarm',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::Scheduler::Schedule',
];

/** AWS::S3::Bucket properties moto's CloudFormation ignores (it applies only BucketEncryption and Tags). */
export const MOTO_IGNORED_BUCKET_PROPERTIES = [
  'VersioningConfiguration',
  'ObjectLockConfiguration',
  'PublicAccessBlockConfiguration',
  'OwnershipControls',
  'LifecycleConfiguration',
];

/** AWS::EC2::SecurityGroup properties moto's CloudFormation ignores (it keeps the default allow-all egress). */
export const MOTO_IGNORED_SECURITY_GROUP_PROPERTIES = ['SecurityGroupEgress'];

const scalarTag = (tag: string, fn: string, split = false) => ({
  tag,
  resolve: (s: string) => ({ [fn]: split ? s.split('.') : s }),
});
const seqTag = (tag: string, fn: string) => ({
  tag,
  collection: 'seq' as const,
  resolve: (seq: YAMLSeq) => ({ [fn]: seq.toJSON() }),
});
const mapTag = (tag: string, fn: string) => ({
  tag,
  collection: 'map' as const,
  resolve: (map: YAMLMap) => ({ [fn]: map.toJSON() }),
});

/** A CloudFormation YAML template, short forms expanded to their JSON forms. */
export function parseCfnYaml(text: string): CfnTemplate {
  const fns = [
    'Sub',
    'Join',
    'Select',
    'Split',
    'If',
    'Equals',
    'Not',
    'And',
    'Or',
    'FindInMap',
    'Base64',
    'Cidr',
  ];
  return parse(text, {
    customTags: [
      scalarTag('!Ref', 'Ref'),
      scalarTag('!GetAtt', 'Fn::GetAtt', true),
      scalarTag('!GetAZs', 'Fn::GetAZs'),
      scalarTag('!ImportValue', 'Fn::ImportValue'),
      ...fns.flatMap((f) => [
        scalarTag(`!${f}`, `Fn::${f}`),
        seqTag(`!${f}`, `Fn::${f}`),
        mapTag(`!${f}`, `Fn::${f}`),
      ]),
      seqTag('!GetAtt', 'Fn::GetAtt'),
      { tag: '!Condition', resolve: (s: string) => ({ Condition: s }) },
    ] as never,
  }) as CfnTemplate;
}

/**
 * The template in the form moto 5.2's CloudFormation reads, same meaning:
 * - Fn::Sub variable names that start with a digit (serverless-step-functions
 *   names them by hash) are renamed: moto substitutes with Python's
 *   string.Template, which skips such names and then fails on them;
 * - AWS::KMS::Key Tags are given as TagKey/TagValue (moto reads the KMS API's
 *   shape there, and fails on CloudFormation's Key/Value), and its KeyPolicy
 *   as a JSON string (CloudFormation takes either; moto stores an object as
 *   is and then fails to parse it on every DescribeKey).
 */
export function forMoto(template: CfnTemplate): CfnTemplate {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Props;
    const sub = o['Fn::Sub'];
    if (Object.keys(o).length === 1 && Array.isArray(sub)) {
      let text = sub[0] as string;
      const vars: Props = {};
      for (const [k, val] of Object.entries(sub[1] as Props)) {
        const name = /^[A-Za-z_]\w*$/.test(k) ? k : `v${k}`;
        text = text.replaceAll(`\${${k}}`, `\${${name}}`);
        vars[name] = walk(val);
      }
      return { 'Fn::Sub': [text, vars] };
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
  };
  const out = walk(template) as CfnTemplate;
  for (const r of Object.values(out.Resources))
    if (r.Type === 'AWS::KMS::Key' && r.Properties) {
      r.Properties.Tags = ((r.Properties.Tags ?? []) as { Key: string; Value: string }[]).map((t) => ({
        TagKey: t.Key,
        TagValue: t.Value,
      }));
      r.Properties.KeyPolicy = { 'Fn::ToJsonString': r.Properties.KeyPolicy };
    }
  return out;
}

export interface StackContext {
  accountId: string;
  region: string;
  stackName: string;
  parameters?: Record<string, string>;
}

/** Resolves Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split and Fn::GetAZs against a created stack. */
export class StackResolver {
  private constructor(
    private readonly ctx: StackContext,
    private readonly template: CfnTemplate,
    readonly physical: Map<string, string>,
  ) {}

  static async of(clients: Clients, template: CfnTemplate, ctx: StackContext): Promise<StackResolver> {
    const r = await clients
      .get(CloudFormationClient, ctx.region)
      .send(new DescribeStackResourcesCommand({ StackName: ctx.stackName }));
    const physical = new Map(
      (r.StackResources ?? []).map((x) => [x.LogicalResourceId ?? '', x.PhysicalResourceId ?? '']),
    );
    return new StackResolver(ctx, template, physical);
  }

  private type(logical: string): string {
    const t = this.template.Resources[logical]?.Type;
    if (!t) throw new Error(`no resource ${logical} in the template`);
    return t;
  }

  ref(name: string): string {
    const { accountId, region, stackName } = this.ctx;
    const pseudo: Record<string, string> = {
      'AWS::AccountId': accountId,
      'AWS::Region': region,
      'AWS::StackName': stackName,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (pseudo[name]) return pseudo[name];
    const param = this.ctx.parameters?.[name] ?? this.template.Parameters?.[name]?.Default;
    if (param !== undefined) return param;
    const id = this.physical.get(name);
    if (!id) throw new Error(`${name} (${this.type(name)}) was not created by the stack`);
    return id;
  }

  getAtt(logical: string, attr: string): string {
    const { accountId, region } = this.ctx;
    const id = this.ref(logical);
    const type = this.type(logical);
    const queueName = id.split('/').pop() ?? id;
    const arns: Record<string, string> = {
      'AWS::IAM::Role': `arn:aws:iam::${accountId}:role/${id}`,
      'AWS::Lambda::Function': `arn:aws:lambda:${region}:${accountId}:function:${id}`,
      'AWS::SQS::Queue': `arn:aws:sqs:${region}:${accountId}:${queueName}`,
      'AWS::KMS::Key': `arn:aws:kms:${region}:${accountId}:key/${id}`,
      'AWS::S3::Bucket': `arn:aws:s3:::${id}`,
      'AWS::SNS::Topic': id,
      'AWS::StepFunctions::StateMachine': id,
      'AWS::IAM::ManagedPolicy': id,
    };
    if (attr === 'Arn' && arns[type]) return arns[type];
    if (attr === 'QueueName' && type === 'AWS::SQS::Queue') return queueName;
    throw new Error(`GetAtt ${logical}.${attr} (${type}) is not known to the test resolver`);
  }

  resolve(v: unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => this.resolve(x));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Props;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const a = o[k];
      switch (k) {
        case 'Ref':
          return this.ref(a);
        case 'Fn::GetAtt':
          return this.getAtt(a[0], a[1]);
        case 'Fn::Sub': {
          const [text, vars] =
            typeof a === 'string' ? [a, {}] : [a[0] as string, this.resolve(a[1]) as Props];
          return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
            if (name in vars) return String(vars[name]);
            const dot = name.indexOf('.');
            return dot > 0 && !name.startsWith('AWS::')
              ? this.getAtt(name.slice(0, dot), name.slice(dot + 1))
              : this.ref(name);
          });
        }
        case 'Fn::Join':
          return (this.resolve(a[1]) as unknown[]).join(a[0]);
        case 'Fn::Select':
          return (this.resolve(a[1]) as unknown[])[Number(this.resolve(a[0]))];
        case 'Fn::Split':
          return String(this.resolve(a[1])).split(a[0]);
        case 'Fn::GetAZs':
          return ['a', 'b', 'c'].map((z) => `${this.ctx.region}${z}`);
      }
    }
    return Object.fromEntries(keys.map((k) => [k, this.resolve(o[k])]));
  }
}

/**
 * Applies, through each service's API, what moto's CloudFormation skipped:
 * the MOTO_SKIPS resources and the ignored bucket properties, with the
 * template's properties resolved against the stack. Returns one line per
 * replayed item, for the test's record.
 */
export async function replaySkipped(
  clients: Clients,
  template: CfnTemplate,
  resolver: StackResolver,
  ctx: StackContext,
): Promise<string[]> {
  const done: string[] = [];
  const region = ctx.region;
  const s3 = clients.get(S3Client, region);
  for (const [logical, r] of Object.entries(template.Resources)) {
    const p = resolver.resolve(r.Properties ?? {}) as Props;
    switch (r.Type) {
      case 'AWS::S3::Bucket': {
        const Bucket = resolver.ref(logical);
        if (p.VersioningConfiguration)
          await s3.send(
            new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: p.VersioningConfiguration }),
          );
        if (p.ObjectLockConfiguration) {
          const d = p.ObjectLockConfiguration.Rule?.DefaultRetention;
          await s3.send(
            new PutObjectLockConfigurationCommand({
              Bucket,
              ObjectLockConfiguration: {
                ObjectLockEnabled: 'Enabled',
                ...(d ? { Rule: { DefaultRetention: { Mode: d.Mode, Days: d.Days, Years: d.Years } } } : {}),
              },
            }),
          );
        }
        if (p.PublicAccessBlockConfiguration)
          await s3.send(
            new PutPublicAccessBlockCommand({
              Bucket,
              PublicAccessBlockConfiguration: p.PublicAccessBlockConfiguration,
            }),
          );
        if (p.OwnershipControls)
          await s3.send(
            new PutBucketOwnershipControlsCommand({ Bucket, OwnershipControls: p.OwnershipControls }),
          );
        if (p.LifecycleConfiguration)
          await s3.send(
            new PutBucketLifecycleConfigurationCommand({
              Bucket,
              LifecycleConfiguration: {
                Rules: (p.LifecycleConfiguration.Rules as LifecycleRule[]).map(toS3LifecycleRule),
              },
            }),
          );
        done.push(
          `${logical}: ${MOTO_IGNORED_BUCKET_PROPERTIES.filter((k) => p[k]).join(', ')} through the S3 API`,
        );
        break;
      }
      case 'AWS::EC2::SecurityGroup': {
        if (!p.SecurityGroupEgress) break;
        // As CloudFormation does: the template's egress rules replace the default allow-all.
        const ec2 = clients.get(EC2Client, region);
        const GroupId = resolver.ref(logical);
        await ec2.send(
          new RevokeSecurityGroupEgressCommand({
            GroupId,
            IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
          }),
        );
        await ec2.send(
          new AuthorizeSecurityGroupEgressCommand({
            GroupId,
            IpPermissions: (p.SecurityGroupEgress as Props[]).map((e) => ({
              IpProtocol: e.IpProtocol,
              FromPort: e.FromPort,
              ToPort: e.ToPort,
              // A rule to another group (the access route's egress to the database group), resolved above.
              ...(e.DestinationSecurityGroupId
                ? {
                    UserIdGroupPairs: [{ GroupId: e.DestinationSecurityGroupId, Description: e.Description }],
                  }
                : { IpRanges: [{ CidrIp: e.CidrIp, Description: e.Description }] }),
            })),
          }),
        );
        done.push(`${logical}: SecurityGroupEgress through the EC2 API`);
        break;
      }
      case 'AWS::S3::BucketPolicy':
        await s3.send(
          new PutBucketPolicyCommand({ Bucket: p.Bucket, Policy: JSON.stringify(p.PolicyDocument) }),
        );
        done.push(`${logical}: PutBucketPolicy`);
        break;
      case 'AWS::SNS::TopicPolicy':
        for (const TopicArn of p.Topics as string[])
          await clients.get(SNSClient, region).send(
            new SetTopicAttributesCommand({
              TopicArn,
              AttributeName: 'Policy',
              AttributeValue: JSON.stringify(p.PolicyDocument),
            }),
          );
        done.push(`${logical}: SetTopicAttributes Policy`);
        break;
      case 'AWS::SQS::QueuePolicy': {
        const sqs = clients.get(SQSClient, region);
        for (const url of p.Queues as string[]) {
          const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: url.split('/').pop() }));
          await sqs.send(
            new SetQueueAttributesCommand({
              QueueUrl,
              Attributes: { Policy: JSON.stringify(p.PolicyDocument) },
            }),
          );
        }
        done.push(`${logical}: SetQueueAttributes Policy`);
        break;
      }
      case 'AWS::Scheduler::Schedule':
        await clients.get(SchedulerClient, region).send(
          new CreateScheduleCommand({
            Name: p.Name,
            Description: p.Description,
            ScheduleExpression: p.ScheduleExpression,
            ScheduleExpressionTimezone: p.ScheduleExpressionTimezone,
            FlexibleTimeWindow: p.FlexibleTimeWindow,
            State: p.State,
            Target: p.Target,
          }),
        );
        done.push(`${logical}: CreateSchedule ${p.Name}`);
        break;
      case 'AWS::CloudWatch::Alarm':
        await clients
          .get(CloudWatchClient, region)
          .send(new PutMetricAlarmCommand({ AlarmName: `${ctx.stackName}-${logical}`, ...p } as never));
        done.push(`${logical}: PutMetricAlarm`);
        break;
      case 'AWS::Lambda::EventInvokeConfig':
        await clients.get(LambdaClient, region).send(new PutFunctionEventInvokeConfigCommand(p as never));
        done.push(`${logical}: PutFunctionEventInvokeConfig`);
        break;
    }
  }
  return done;
}
