// Test support (deploy): CloudFormation templates as data. Reads the YAML
// short forms (!Ref, !Sub, …) and resolves intrinsic functions against a
// stack that the emulator's CloudFormation created, so that the created
// resources can be looked up by the template's logical ids.
import { DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { parse, type YAMLMap, type YAMLSeq } from 'yaml';
import type { Clients } from '../../shared/aws/clients.ts';

/** CloudFormation properties: free-form JSON. */
export type Props = Record<string, any>;
export type CfnTemplate = {
  Parameters?: Record<string, { Default?: string }>;
  Resources: Record<string, { Type: string; Properties?: Props; DependsOn?: unknown }>;
  Outputs?: Record<string, { Value: unknown }>;
  [k: string]: unknown;
};

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

/** Ref and Fn::GetAtt of the template's resources, as the created stack answers them. */
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
}
