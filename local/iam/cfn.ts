// Local runtime (IAM front layer) and deploy tests: CloudFormation templates
// as data. Reads the YAML short forms (!Ref, !Sub, …) and resolves the
// intrinsic functions (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select,
// Fn::Split, Fn::GetAZs) given the physical id of each logical resource.
import { parse, type YAMLMap, type YAMLSeq } from 'yaml';

/** CloudFormation properties: free-form JSON. */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON.
export type Props = Record<string, any>;
export type CfnTemplate = {
  Parameters?: Record<string, { Default?: string; Type?: string }>;
  Resources: Record<string, { Type: string; Properties?: Props; DependsOn?: unknown; [k: string]: unknown }>;
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

export interface StackContext {
  accountId: string;
  region: string;
  stackName: string;
  parameters?: Record<string, string>;
}

/** Resolves intrinsic functions given each logical resource's physical id. */
export class CfnResolver {
  constructor(
    protected readonly ctx: StackContext,
    protected readonly template: CfnTemplate,
    private readonly physicalId: (logical: string) => string | undefined,
  ) {}

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
    const id = this.physicalId(name);
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
    throw new Error(`GetAtt ${logical}.${attr} (${type}) is not known to the resolver`);
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
        case 'Ref': {
          // A CommaDelimitedList parameter is a list wherever it is referenced.
          const list = this.template.Parameters?.[a]?.Type === 'CommaDelimitedList';
          return list ? this.ref(a).split(',') : this.ref(a);
        }
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
