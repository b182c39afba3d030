// Local runtime (IAM front layer): the policies kura deploys, as data the
// evaluator reads. One Deployment per backup policy: the packaged template
// (`sls package`, made for the default policy) re-bound to that policy (the
// resources deploy/template.ts renders from it, and the values the IAM files
// take from it), plus deploy/isolated-account.yml with the parameters that
// policy implies, and deploy/source-account.yml in each of its source accounts.
// Every ARN resolves to the emulator's accounts: the backup account (moto's
// default account), the policy's isolated account and its source accounts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FUNCTION_ROLES, ISOLATED_USERS, iamValues, renderFromPolicy } from '../../deploy/template.ts';
import { sourceStackParameters } from '../../deploy/source-stack.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { sourceAccounts } from '../../shared/policy/sources.ts';
import { CfnResolver, type CfnTemplate, parseCfnYaml, type Props } from './cfn.ts';

export const BACKUP_ACCOUNT = '123456789012';
export const STACK_NAME = 'kura-prod';
export const ISOLATED_STACK_NAME = 'kura-isolated';

export type PolicyDocument = { Version?: string; Statement: Props[] | Props };

export interface RoleModel {
  /** Role ARN (the principal's `aws:PrincipalArn`). */
  arn: string;
  /** The logical id in its template, e.g. RdsSnapshotRole, or the operator role's name. */
  logicalId: string;
  account: string;
  trust: PolicyDocument;
  /** Identity policies: inline, managed (customer and AWS) attached to it. */
  policies: { name: string; policy: PolicyDocument }[];
  /** Where the role comes from: the packaged template, the isolated template, or the operator. */
  source: 'template' | 'isolated-template' | 'source-template' | 'operator';
}

export interface Deployment {
  /** The vault bucket names a deployment. */
  id: string;
  policy: Policy;
  region: string;
  isolatedAccount: string;
  roles: Map<string, RoleModel>;
  /** Bucket name → bucket policy. */
  bucketPolicies: Map<string, PolicyDocument>;
  /** Key logical id (VaultKey, OpsKey, IsolatedKey) → key policy. */
  keyPolicies: Map<string, { account: string; alias?: string; policy: PolicyDocument }>;
  /** Topic and queue ARNs → resource policy. */
  otherResourcePolicies: Map<string, PolicyDocument>;
  /** Function name → its role ARN; state machine name → its role ARN. */
  functionRoles: Record<string, string>;
  stateMachineRoles: Record<string, string>;
  schedulerRole?: string;
  /** Lambda function ARN by function name. */
  functionArns: Record<string, string>;
  /** The resolved templates (for the must-never checks and the report). */
  backupTemplate: CfnTemplate;
  isolatedTemplate: CfnTemplate;
  /** deploy/source-account.yml as each source account deployed it (account → resolved template). */
  sourceTemplates: Map<string, CfnTemplate>;
}

/** Placeholder ARN of a key of the templates: the front layer maps moto's key ids onto it by alias. */
export function keyArn(account: string, region: string, logicalId: string): string {
  return `arn:aws:kms:${region}:${account}:key/${logicalId}`;
}

/** Physical names the emulator gives the stack's resources (CloudFormation's generated names, made stable). */
function physicalName(logical: string, type: string, policy: Policy, region: string): string | undefined {
  switch (type) {
    case 'AWS::IAM::Role':
      return `${STACK_NAME}-${logical}-LOCAL`;
    case 'AWS::Lambda::Function':
      return `${STACK_NAME}-${logical
        .replace(/LambdaFunction$/, '')
        .replace(/Dash/g, '-')
        .toLowerCase()}`;
    case 'AWS::KMS::Key':
      return logical;
    case 'AWS::S3::Bucket':
      return policy.vault.bucket;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${region}:${BACKUP_ACCOUNT}:${policy.notifications?.topicName ?? 'kura-alerts'}`;
    case 'AWS::SQS::Queue':
      return `https://sqs.${region}.amazonaws.com/${BACKUP_ACCOUNT}/${STACK_NAME}-${logical}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${region}:${BACKUP_ACCOUNT}:stateMachine:${logical}`;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:aws:iam::${BACKUP_ACCOUNT}:policy/${STACK_NAME}-${logical}`;
    default:
      return `${logical}-LOCAL`;
  }
}

const AWS_MANAGED: Record<string, PolicyDocument> = {
  // AWS managed policies the function roles attach (their documents as AWS publishes them).
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: '*',
      },
    ],
  },
  // The isolated stack's access profile (jump host, restored servers): Session Manager's
  // core, v2 as published in the AWS managed policy reference.
  'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore': {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'ssm:DescribeAssociation',
          'ssm:GetDeployablePatchSnapshotForInstance',
          'ssm:GetDocument',
          'ssm:DescribeDocument',
          'ssm:GetManifest',
          'ssm:GetParameter',
          'ssm:GetParameters',
          'ssm:ListAssociations',
          'ssm:ListInstanceAssociations',
          'ssm:PutInventory',
          'ssm:PutComplianceItems',
          'ssm:PutConfigurePackageResult',
          'ssm:UpdateAssociationStatus',
          'ssm:UpdateInstanceAssociationStatus',
          'ssm:UpdateInstanceInformation',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: [
          'ssmmessages:CreateControlChannel',
          'ssmmessages:CreateDataChannel',
          'ssmmessages:OpenControlChannel',
          'ssmmessages:OpenDataChannel',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: [
          'ec2messages:AcknowledgeMessage',
          'ec2messages:DeleteMessage',
          'ec2messages:FailMessage',
          'ec2messages:GetEndpoint',
          'ec2messages:GetMessages',
          'ec2messages:SendReply',
        ],
        Resource: '*',
      },
    ],
  },
  'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess': {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:GetSamplingStatisticSummaries',
        ],
        Resource: ['*'],
      },
    ],
  },
};

/** Replaces, anywhere in `v`, each value of `from` by the same key's value of `to` (strings whole, lists whole). */
function rebind(v: unknown, pairs: [unknown, unknown][]): unknown {
  for (const [a, b] of pairs) if (JSON.stringify(v) === JSON.stringify(a)) return b;
  if (Array.isArray(v)) return v.map((x) => rebind(x, pairs));
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v as Props).map(([k, x]) => [k, rebind(x, pairs)]));
}

function fixedRoleName(t: CfnTemplate, logical: string): string | undefined {
  const r = t.Resources[logical];
  const name = r?.Type === 'AWS::IAM::Role' ? r.Properties?.RoleName : undefined;
  return typeof name === 'string' ? name : undefined;
}

function deployTemplateText(file: string): string {
  return readFileSync(fileURLToPath(new URL(`../../deploy/${file}`, import.meta.url)), 'utf8');
}

export interface IsolatedPhysical {
  subnets?: string[];
  securityGroups?: string[];
}

/**
 * The deployment of `policy`: `packaged` is `sls package`'s template for
 * `packagedFor` (the default policy); `isolated` names physical ids the
 * isolated account's stack gave its subnets and security groups.
 */
export function buildDeployment(
  packaged: CfnTemplate,
  packagedFor: Policy,
  policy: Policy,
  isolated: IsolatedPhysical = {},
): Deployment {
  const region = policy.region;
  const iso = policy.isolatedAccount;
  const isolatedAccount = iso?.accountId ?? '000000000000';
  // 1. The backup account's template, re-bound to this policy.
  const rendered = renderFromPolicy(policy).resources.Resources as CfnTemplate['Resources'];
  const before = iamValues(packagedFor);
  const after = iamValues(policy);
  const pairs = Object.keys(before).map(
    (k) => [before[k as keyof typeof before], after[k as keyof typeof after]] as [unknown, unknown],
  );
  const fromPolicyIds = new Set(Object.keys(renderFromPolicy(packagedFor).resources.Resources));
  const resources: CfnTemplate['Resources'] = {};
  for (const [id, r] of Object.entries(packaged.Resources))
    if (!fromPolicyIds.has(id)) resources[id] = rebind(r, pairs) as CfnTemplate['Resources'][string];
  Object.assign(resources, rendered);
  // Parameters at their defaults (the break-glass role's name), as a deploy without overrides.
  const template: CfnTemplate = { Parameters: renderFromPolicy(policy).resources.Parameters, Resources: resources };
  const resolver = new CfnResolver(
    { accountId: BACKUP_ACCOUNT, region, stackName: STACK_NAME },
    template,
    (l) => {
      const r = resources[l];
      // A role with a fixed name (RoleName) keeps it; others get a generated one.
      return r
        ? ((r.Properties?.RoleName as string | undefined) ?? physicalName(l, r.Type, policy, region))
        : undefined;
    },
  );
  const backupTemplate = resolver.resolve(template) as CfnTemplate;

  // 2. The isolated account's template with the parameters this policy implies.
  const isoRaw = parseCfnYaml(deployTemplateText('isolated-account.yml'));
  const roleName = iso?.roleArn.split('/').pop() ?? 'kura-restore';
  const subnetIds = isolated.subnets ?? [];
  const isoPhysical: Record<string, string> = {
    RestoreRole: roleName,
    IsolatedKey: 'IsolatedKey',
    RestoreBucket: `kura-isolated-${isolatedAccount}-${iso?.region ?? region}`,
    PrivateSubnetA: subnetIds[0] || 'subnet-isolated-a',
    PrivateSubnetB: subnetIds[1] || 'subnet-isolated-b',
    NoIngressSecurityGroup: isolated.securityGroups?.[0] || 'sg-isolated-no-ingress',
    DatabaseSecurityGroup: isolated.securityGroups?.[1] || 'sg-isolated-db',
    AccessSecurityGroup: isolated.securityGroups?.[2] || 'sg-isolated-access',
    DatabaseSubnetGroup: 'kura-isolated',
  };
  const isoResolver = new CfnResolver(
    {
      accountId: isolatedAccount,
      region: iso?.region ?? region,
      stackName: ISOLATED_STACK_NAME,
      parameters: {
        BackupAccountId: BACKUP_ACCOUNT,
        ...(iso?.externalId ? { ExternalId: iso.externalId } : {}),
        RestoreRoleName: roleName,
        TrustedRoleArns: Object.keys(ISOLATED_USERS)
          .map((fn) => resolver.getAtt(FUNCTION_ROLES[fn] ?? fn, 'Arn'))
          .join(','),
      },
    },
    isoRaw,
    // A role the template names (RoleName: kura-access) is that name in the account, as in AWS.
    (l) => isoPhysical[l] ?? fixedRoleName(isoRaw, l) ?? `${l}-LOCAL`,
  );
  const isolatedTemplate = isoResolver.resolve(isoRaw) as CfnTemplate;

  // 3. Roles, identity policies and resource policies.
  const roles = new Map<string, RoleModel>();
  const addRoles = (t: CfnTemplate, account: string, source: RoleModel['source']) => {
    for (const [id, r] of Object.entries(t.Resources)) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      const p = r.Properties ?? {};
      const name = p.RoleName ?? physicalName(id, r.Type, policy, region);
      const arn = `arn:aws:iam::${account}:role/${name}`;
      const policies: RoleModel['policies'] = [];
      for (const inline of (p.Policies ?? []) as { PolicyName: string; PolicyDocument: PolicyDocument }[])
        policies.push({ name: `${id}/${inline.PolicyName}`, policy: inline.PolicyDocument });
      for (const m of (p.ManagedPolicyArns ?? []) as string[]) {
        const doc = AWS_MANAGED[m];
        if (!doc)
          throw new Error(`${id}: managed policy ${m} is not known to the evaluator; add its document`);
        policies.push({ name: m.split('/').pop() ?? m, policy: doc });
      }
      roles.set(arn, { arn, logicalId: id, account, trust: p.AssumeRolePolicyDocument, policies, source });
    }
    for (const [id, r] of Object.entries(t.Resources)) {
      if (r.Type !== 'AWS::IAM::ManagedPolicy' && r.Type !== 'AWS::IAM::Policy') continue;
      const p = r.Properties ?? {};
      for (const roleName of (p.Roles ?? []) as string[]) {
        const role = roles.get(`arn:aws:iam::${account}:role/${roleName}`);
        if (!role) throw new Error(`${id} names role ${roleName}, which the template does not create`);
        role.policies.push({ name: id, policy: p.PolicyDocument });
      }
    }
  };
  addRoles(backupTemplate, BACKUP_ACCOUNT, 'template');
  addRoles(isolatedTemplate, isolatedAccount, 'isolated-template');
  // 4. Each source account's stack (deploy/source-account.yml) with the parameters
  // `kura policy source-stack` prints for it.
  const sourceTemplates = new Map<string, CfnTemplate>();
  if (policy.sources?.length) {
    const sourceRaw = parseCfnYaml(deployTemplateText('source-account.yml'));
    for (const src of sourceAccounts(policy)) {
      const parameters = sourceStackParameters(policy, src.accountId, BACKUP_ACCOUNT, 'prod');
      const t = new CfnResolver(
        { accountId: src.accountId, region, stackName: 'kura-source', parameters },
        sourceRaw,
        (l) => (l === 'SourceRole' ? parameters.SourceRoleName : `${l}-LOCAL`),
      ).resolve(sourceRaw) as CfnTemplate;
      sourceTemplates.set(src.accountId, t);
      addRoles(t, src.accountId, 'source-template');
    }
  }

  const bucketPolicies = new Map<string, PolicyDocument>();
  const keyPolicies: Deployment['keyPolicies'] = new Map();
  const otherResourcePolicies = new Map<string, PolicyDocument>();
  const collect = (t: CfnTemplate, raw: CfnTemplate, account: string) => {
    for (const [id, r] of Object.entries(t.Resources)) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::S3::BucketPolicy') bucketPolicies.set(p.Bucket, p.PolicyDocument);
      if (r.Type === 'AWS::KMS::Key') {
        const alias = Object.values(raw.Resources).find(
          (a) => a.Type === 'AWS::KMS::Alias' && JSON.stringify(a.Properties?.TargetKeyId ?? '').includes(id),
        )?.Properties?.AliasName as string | undefined;
        keyPolicies.set(id, { account, alias, policy: p.KeyPolicy });
      }
      if (r.Type === 'AWS::SNS::TopicPolicy')
        for (const topic of p.Topics as string[]) otherResourcePolicies.set(topic, p.PolicyDocument);
      if (r.Type === 'AWS::SQS::QueuePolicy')
        for (const q of p.Queues as string[]) {
          const name = q.split('/').pop();
          otherResourcePolicies.set(`arn:aws:sqs:${region}:${account}:${name}`, p.PolicyDocument);
        }
    }
  };
  collect(backupTemplate, template, BACKUP_ACCOUNT);
  collect(isolatedTemplate, isoRaw, isolatedAccount);

  const functionRoles: Record<string, string> = {};
  const functionArns: Record<string, string> = {};
  for (const [id, r] of Object.entries(backupTemplate.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const fn = (resources[id]?.Properties?.FunctionName as string | undefined) ?? '';
    const name = id.replace(/LambdaFunction$/, '').replace(/Dash/g, '-');
    const fnName = name.charAt(0).toLowerCase() + name.slice(1) || fn;
    functionRoles[fnName] = r.Properties?.Role as string;
    functionArns[fnName] =
      `arn:aws:lambda:${region}:${BACKUP_ACCOUNT}:function:${physicalName(id, r.Type, policy, region)}`;
  }
  const stateMachineRoles: Record<string, string> = {};
  for (const [id, r] of Object.entries(backupTemplate.Resources)) {
    if (r.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const name = id
      .replace(/StateMachine$/, '')
      .replace(/([a-z])([A-Z])/g, '$1-$2')
      .toLowerCase();
    stateMachineRoles[name] = r.Properties?.RoleArn as string;
  }
  const schedulerRole = resources.SchedulerRole ? resolver.getAtt('SchedulerRole', 'Arn') : undefined;
  return {
    id: policy.vault.bucket,
    policy,
    region,
    isolatedAccount,
    roles,
    bucketPolicies,
    keyPolicies,
    otherResourcePolicies,
    functionRoles,
    stateMachineRoles,
    schedulerRole,
    functionArns,
    backupTemplate,
    isolatedTemplate,
    sourceTemplates,
  };
}
