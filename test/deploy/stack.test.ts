// The packaged template created as a stack in the emulator's CloudFormation
// (moto), then the created resources read back through the SDK. And the
// isolated-account template created as a stack in the isolated account.
//
// Everything asserted here was made by CloudFormation from the template; the
// test applies nothing itself. moto 5.2's CloudFormation skips six resource
// types of the template (bucket, topic and queue policies, Scheduler
// schedules, CloudWatch alarms, Lambda event invoke configs) and ignores some
// bucket, security group and subnet properties: local/moto/kura_moto/
// cloudformation.py makes moto's CloudFormation create those from the
// template, through the backends the service APIs use, as AWS's does. The
// test asserts that the stack holds every resource of the template.
// `sls deploy` first creates the deployment bucket and uploads the Lambda
// zips; here the zips from `sls package` are uploaded to a bucket of the
// test's own and the template points at it.
// The stack lives in eu-west-1 with names of its own, so it cannot meet the
// resources of the integration tests (ap-northeast-1).
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeAlarmsCommand, CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyRotationStatusCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeDBSubnetGroupsCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  type LifecycleRule,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProbeRunner } from '../../deploy/probe-runner.ts';
import { FUNCTION_ROLES, isolatedTrustedRoleArns } from '../../deploy/template.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { schedulesFromPolicy } from '../../shared/domain/schedules.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { emulatorClients, uniqueSuffix } from '../support/emulator.ts';
import { PACKAGE_DIR, packagedTemplate, ROOT } from '../support/packaged-template.ts';
import { type CfnTemplate, forMoto, parseCfnYaml, StackResolver } from './cfn.ts';
import { ensureIsolatedBucket, ensureIsolatedKey } from '../../shared/aws/isolated-storage.ts';
import { ensureIsolatedNetwork, isolationFindings } from '../../shared/aws/isolated-network.ts';

const REGION = 'eu-west-1';
// An isolated account of its own: the stack makes roles of fixed names there (kura-access,
// kura-probe-runner), which the IAM front layer also makes in the suite's shared isolated
// account (210987654321) when a restore or validation function first acts in it.
const ISOLATED_ACCOUNT = `2${String(randomInt(10 ** 10, 10 ** 11 - 1))}`;
const policy = loadPolicy();
const suffix = uniqueSuffix();
const STACK = `kura-st${suffix}`;
const VAULT = `kura-vault-st-${suffix}`;
const DEPLOY_BUCKET = `kura-deploy-st-${suffix}`;

let clients: Clients;
let template: CfnTemplate;
let r: StackResolver;

/** The packaged template with names of this test's own, pointed at its deployment bucket. */
function forThisTest(packaged: CfnTemplate): CfnTemplate {
  let text = JSON.stringify(packaged);
  text = text
    .replaceAll(policy.vault.bucket, VAULT)
    .replaceAll('"kura-prod-', `"kura-${suffix}-`)
    .replaceAll('/aws/lambda/kura-prod-', `/aws/lambda/kura-${suffix}-`)
    .replace(/"(kura-[a-z-]+)-prod"/g, `"$1-${suffix}"`)
    .replaceAll(`"${policy.vault.kmsKeyAlias}"`, `"${policy.vault.kmsKeyAlias}-${suffix}"`)
    .replaceAll(`"${policy.notifications?.topicName ?? 'kura-alerts'}"`, `"kura-alerts-${suffix}"`)
    .replaceAll('{"Ref":"ServerlessDeploymentBucket"}', JSON.stringify(DEPLOY_BUCKET));
  const t = JSON.parse(text) as CfnTemplate;
  delete t.Resources.ServerlessDeploymentBucket;
  delete t.Resources.ServerlessDeploymentBucketPolicy;
  delete t.Outputs?.ServerlessDeploymentBucketName;
  return t;
}

async function createStack(
  cfn: CloudFormationClient,
  name: string,
  body: CfnTemplate,
  parameters: Record<string, string> = {},
) {
  await cfn.send(
    new CreateStackCommand({
      StackName: name,
      TemplateBody: JSON.stringify(body),
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
      Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({
        ParameterKey,
        ParameterValue,
      })),
    }),
  );
  for (let i = 0; i < 60; i++) {
    const s = (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
    if (s?.StackStatus === 'CREATE_COMPLETE') return s;
    if (s?.StackStatus && !s.StackStatus.endsWith('_IN_PROGRESS'))
      throw new Error(`stack ${name}: ${s.StackStatus} ${s.StackStatusReason ?? ''}`);
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error(`stack ${name} was not created in time`);
}

beforeAll(async () => {
  clients = emulatorClients(REGION);
  const packaged = (await packagedTemplate()) as unknown as CfnTemplate;
  template = forThisTest(packaged);

  // Prepare: what `sls deploy` does before the stack update (bucket, artefacts).
  const s3 = clients.get(S3Client);
  await s3.send(
    new CreateBucketCommand({
      Bucket: DEPLOY_BUCKET,
      CreateBucketConfiguration: { LocationConstraint: REGION },
    }),
  );
  for (const [, res] of Object.entries(template.Resources).filter(
    ([, x]) => x.Type === 'AWS::Lambda::Function',
  )) {
    const key = res.Properties?.Code.S3Key as string;
    await s3.send(
      new PutObjectCommand({
        Bucket: DEPLOY_BUCKET,
        Key: key,
        Body: readFileSync(join(PACKAGE_DIR, key.split('/').pop() ?? '')),
      }),
    );
  }

  // Act
  await createStack(clients.get(CloudFormationClient), STACK, forMoto(template));
  const ctx = { accountId: await clients.accountId(), region: REGION, stackName: STACK };
  r = await StackResolver.of(clients, template, ctx);
}, 300_000);

/** The template's resources the stack does not hold, as "LogicalId (Type)". */
const notCreated = (t: CfnTemplate, resolver: StackResolver) =>
  Object.entries(t.Resources)
    .filter(([logical]) => !resolver.physical.has(logical))
    .map(([logical, x]) => `${logical} (${x.Type})`);

type CfnRule = {
  Id: string;
  Prefix?: string;
  ExpirationInDays?: number;
  NoncurrentVersionExpiration?: { NoncurrentDays: number };
  Transitions?: { StorageClass: string; TransitionInDays: number }[];
};

/** A lifecycle rule's id, prefix and days, from the template's shape or the S3 API's. */
function lifecycleDays(x: CfnRule | LifecycleRule) {
  const api = 'ID' in x || 'Filter' in x;
  const a = x as LifecycleRule;
  const c = x as CfnRule;
  return {
    id: api ? a.ID : c.Id,
    prefix: api ? (a.Filter?.Prefix ?? a.Filter?.And?.Prefix ?? a.Prefix) : c.Prefix,
    expire: api ? a.Expiration?.Days : c.ExpirationInDays,
    noncurrent: api
      ? a.NoncurrentVersionExpiration?.NoncurrentDays
      : c.NoncurrentVersionExpiration?.NoncurrentDays,
    transitions: api
      ? (a.Transitions ?? []).map((t) => `${t.StorageClass}@${t.Days}`)
      : (c.Transitions ?? []).map((t) => `${t.StorageClass}@${t.TransitionInDays}`),
  };
}

const logicalOf = (type: string) =>
  Object.entries(template.Resources)
    .filter(([, x]) => x.Type === type)
    .map(([k]) => k);

describe('the packaged template as a stack in the emulator', () => {
  it('creates every resource of the template', () => {
    expect(notCreated(template, r)).toEqual([]);
    for (const t of ['AWS::S3::BucketPolicy', 'AWS::Scheduler::Schedule', 'AWS::CloudWatch::Alarm'])
      expect(logicalOf(t).length, t).toBeGreaterThan(0);
  });

  it('makes the vault versioned, locked, KMS-encrypted with its key, private, administrators-only, with the lifecycle rules', async () => {
    const s3 = clients.get(S3Client);
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: VAULT }))).Status).toBe('Enabled');
    const lock = (await s3.send(new GetObjectLockConfigurationCommand({ Bucket: VAULT })))
      .ObjectLockConfiguration;
    expect(lock?.ObjectLockEnabled).toBe('Enabled');
    expect(lock?.Rule?.DefaultRetention).toMatchObject({
      Mode: policy.vault.objectLock.mode,
      Days: policy.vault.objectLock.days,
    });
    const enc = (await s3.send(new GetBucketEncryptionCommand({ Bucket: VAULT })))
      .ServerSideEncryptionConfiguration;
    expect(enc?.Rules?.[0]?.ApplyServerSideEncryptionByDefault).toMatchObject({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: r.getAtt('VaultKey', 'Arn'),
    });
    const pab = (await s3.send(new GetPublicAccessBlockCommand({ Bucket: VAULT })))
      .PublicAccessBlockConfiguration;
    expect(pab).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const doc = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: VAULT }))).Policy ?? '{}');
    const sids = doc.Statement.map((s: { Sid: string }) => s.Sid);
    expect(sids).toEqual(['DenyInsecureTransport', 'DenyDataToAllButAdministratorsAndKura']);
    const allowed = doc.Statement[1].Condition.ArnNotLike['aws:PrincipalArn'];
    for (const role of Object.values(FUNCTION_ROLES)) expect(allowed).toContain(r.getAtt(role, 'Arn'));
    const rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: VAULT }))).Rules ?? [];
    const created = rules.map(lifecycleDays);
    expect(created).toEqual(
      (template.Resources.VaultBucket?.Properties?.LifecycleConfiguration.Rules as CfnRule[]).map(
        lifecycleDays,
      ),
    );
    // The template's numbers are pinned in package.test.ts; two of them, as the bucket holds them:
    expect(created).toContainEqual({
      id: 'logs-access-loose',
      prefix: 'logs/access/',
      expire: 2557,
      noncurrent: 124,
      transitions: [],
    });
    expect(created.find((x) => x.id === 'logs-system-bundles-transition')?.transitions).toEqual([
      'STANDARD_IA@30',
      'GLACIER_IR@90',
      'DEEP_ARCHIVE@180',
    ]);
  });

  it('creates the keys with rotation and the vault alias', async () => {
    const kms = clients.get(KMSClient);
    for (const key of logicalOf('AWS::KMS::Key'))
      expect(
        (await kms.send(new GetKeyRotationStatusCommand({ KeyId: r.ref(key) }))).KeyRotationEnabled,
        key,
      ).toBe(true);
    const alias = await kms.send(new DescribeKeyCommand({ KeyId: `${policy.vault.kmsKeyAlias}-${suffix}` }));
    expect(alias.KeyMetadata?.Arn).toBe(r.getAtt('VaultKey', 'Arn'));
  });

  it('creates every function with its own role and a log group kept logRetentionInDays', async () => {
    const lambda = clients.get(LambdaClient);
    const logs = clients.get(CloudWatchLogsClient);
    for (const [name, role] of Object.entries(FUNCTION_ROLES)) {
      const fn = await lambda.send(new GetFunctionCommand({ FunctionName: `kura-${suffix}-${name}` }));
      expect(fn.Configuration?.Role, name).toBe(r.getAtt(role, 'Arn'));
      expect(fn.Configuration?.Runtime).toBe('nodejs22.x');
      const lg = await logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: `/aws/lambda/kura-${suffix}-${name}` }),
      );
      expect(lg.logGroups?.[0]?.retentionInDays, name).toBe(400);
    }
  });

  it('creates the state machines with their roles', async () => {
    const sfn = clients.get(SFNClient);
    const machines = logicalOf('AWS::StepFunctions::StateMachine');
    expect(machines.sort()).toEqual([
      'ContentBackupStateMachine',
      'LogBundleStateMachine',
      'RestoreStateMachine',
      'ValidationStateMachine',
    ]);
    for (const m of machines) {
      const d = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: r.ref(m) }));
      expect(d.roleArn, m).toBe(r.getAtt(`${m}Role`, 'Arn'));
      expect(JSON.parse(d.definition ?? '{}').States, m).toBeDefined();
    }
  });

  it('creates the roles with their policies, and the dead-letter policy on the senders', async () => {
    const iam = clients.get(IAMClient);
    for (const role of [...Object.values(FUNCTION_ROLES), 'SchedulerRole']) {
      const name = r.ref(role);
      await iam.send(new GetRoleCommand({ RoleName: name }));
      const inline = (await iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? [];
      expect(inline.length, role).toBeGreaterThan(0);
      const doc = await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: inline[0] }));
      expect(decodeURIComponent(doc.PolicyDocument ?? '')).not.toMatch(/"Action":\s*"\*"/);
    }
    const attached = await iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: r.ref('SchedulerRole') }),
    );
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toContain(r.ref('DeadLetterSendingPolicy'));
  });

  it('schedules each target with the policy expression, time zone and dead-letter queue', async () => {
    const scheduler = clients.get(SchedulerClient);
    const dlq = r.getAtt('DeadLetterQueue', 'Arn');
    for (const s of schedulesFromPolicy(policy)) {
      const d = await scheduler.send(new GetScheduleCommand({ Name: `${STACK}-${s.target}` }));
      expect(d.ScheduleExpression, s.target).toBe(s.expression);
      expect(d.ScheduleExpressionTimezone).toBe(policy.timezone);
      expect(d.Target?.DeadLetterConfig?.Arn).toBe(dlq);
      expect(d.Target?.RoleArn).toBe(r.getAtt('SchedulerRole', 'Arn'));
    }
  });

  it('sends failed runs to an encrypted queue and raises alarms to the encrypted alert topic', async () => {
    const sqs = clients.get(SQSClient);
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({ QueueName: r.getAtt('DeadLetterQueue', 'QueueName') }),
    );
    const q = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(q.Attributes?.KmsMasterKeyId).toBe(r.getAtt('OpsKey', 'Arn'));
    expect(JSON.parse(q.Attributes?.Policy ?? '{}').Statement[0].Principal.AWS).toContain(
      r.getAtt('SchedulerRole', 'Arn'),
    );
    const topic = r.ref('AlertTopic');
    const t = await clients.get(SNSClient).send(new GetTopicAttributesCommand({ TopicArn: topic }));
    expect(t.Attributes?.KmsMasterKeyId).toBe(r.getAtt('OpsKey', 'Arn'));
    expect(JSON.parse(t.Attributes?.Policy ?? '{}').Statement[0].Principal.Service).toBe(
      'cloudwatch.amazonaws.com',
    );
    const alarms =
      (await clients.get(CloudWatchClient).send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${STACK}-` })))
        .MetricAlarms ?? [];
    expect(alarms.length).toBe(logicalOf('AWS::CloudWatch::Alarm').length);
    for (const a of alarms) expect(a.AlarmActions, a.AlarmName).toEqual([topic]);
    const lambda = clients.get(LambdaClient);
    for (const s of schedulesFromPolicy(policy).filter((x) => x.kind === 'function')) {
      const c = await lambda.send(
        new GetFunctionEventInvokeConfigCommand({
          FunctionName: `kura-${suffix}-${s.target}`,
          Qualifier: '$LATEST',
        }),
      );
      expect(c.DestinationConfig?.OnFailure?.Destination, s.target).toBe(r.getAtt('DeadLetterQueue', 'Arn'));
    }
  });
});

describe('the isolated-account template as a stack in the isolated account', () => {
  const roleName = `kura-restore-st${suffix}`;
  let iso: Clients;
  let isoTemplate: CfnTemplate;
  let isoR: StackResolver;

  beforeAll(async () => {
    iso = await emulatorClients(REGION).assumeRole(`arn:aws:iam::${ISOLATED_ACCOUNT}:role/kura-deployer`, {
      region: REGION,
      sessionName: 'kura-deploy-test',
    });
    isoTemplate = parseCfnYaml(readFileSync(join(ROOT, 'deploy/isolated-account.yml'), 'utf8'));
    const stackName = `kura-isolated-st${suffix}`;
    // The probe runner's bundle, built as docs/deploy.md says, in a bucket of the isolated account.
    const artifacts = `kura-artifacts-st${suffix}`;
    const bundle = await buildProbeRunner(
      join(mkdtempSync(join(tmpdir(), 'kura-runner-')), 'probe-runner.zip'),
    );
    await iso.get(S3Client).send(
      new CreateBucketCommand({
        Bucket: artifacts,
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
    await iso.get(S3Client).send(
      new PutObjectCommand({
        Bucket: artifacts,
        Key: 'kura/probe-runner.zip',
        Body: readFileSync(bundle.zip),
      }),
    );
    const parameters = {
      BackupAccountId: '123456789012',
      RestoreRoleName: roleName,
      ExternalId: 'kura-stack-test',
      TrustedRoleArns: isolatedTrustedRoleArns('123456789012'),
      ProbeRunnerCodeBucket: artifacts,
      ProbeRunnerCodeKey: 'kura/probe-runner.zip',
    };
    await createStack(iso.get(CloudFormationClient), stackName, forMoto(isoTemplate), parameters);
    const ctx = { accountId: ISOLATED_ACCOUNT, region: REGION, stackName, parameters };
    isoR = await StackResolver.of(iso, isoTemplate, ctx);
  }, 120_000);

  it('creates every resource of the template', () => {
    expect(notCreated(isoTemplate, isoR)).toEqual([]);
  });

  it('deploys the probe runner in the isolated subnets, in its own group and the database group, as its own role', async () => {
    const fn = await iso
      .get(LambdaClient)
      .send(new GetFunctionConfigurationCommand({ FunctionName: 'kura-probe-runner' }));
    expect(fn.Role).toBe(`arn:aws:iam::${ISOLATED_ACCOUNT}:role/kura-probe-runner`);
    expect(fn.Runtime).toBe('nodejs22.x');
    expect(fn.VpcConfig?.SubnetIds?.sort()).toEqual(
      [isoR.ref('PrivateSubnetA'), isoR.ref('PrivateSubnetB')].sort(),
    );
    expect(fn.VpcConfig?.SecurityGroupIds?.sort()).toEqual(
      [isoR.ref('ProbeRunnerSecurityGroup'), isoR.ref('DatabaseSecurityGroup')].sort(),
    );
  });

  it('creates the restore role trusting exactly the restore and validation roles (plan, report and each class) and content-restore-shard, with the external id', async () => {
    const role = await iso.get(IAMClient).send(new GetRoleCommand({ RoleName: roleName }));
    expect(role.Role?.Arn).toBe(`arn:aws:iam::${ISOLATED_ACCOUNT}:role/${roleName}`);
    const trust = JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '{}'));
    expect(trust.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::123456789012:root' },
      Action: 'sts:AssumeRole',
      Condition: {
        StringEquals: { 'sts:ExternalId': 'kura-stack-test' },
        ArnEquals: {
          'aws:PrincipalArn': [
            'arn:aws:iam::123456789012:role/kura-prod-restore',
            'arn:aws:iam::123456789012:role/kura-prod-restore-database',
            'arn:aws:iam::123456789012:role/kura-prod-restore-image',
            'arn:aws:iam::123456789012:role/kura-prod-restore-content',
            'arn:aws:iam::123456789012:role/kura-prod-restore-logs',
            'arn:aws:iam::123456789012:role/kura-prod-validation',
            'arn:aws:iam::123456789012:role/kura-prod-validation-report',
            'arn:aws:iam::123456789012:role/kura-prod-validation-database',
            'arn:aws:iam::123456789012:role/kura-prod-validation-image',
            'arn:aws:iam::123456789012:role/kura-prod-validation-content',
            'arn:aws:iam::123456789012:role/kura-prod-validation-logs',
            'arn:aws:iam::123456789012:role/kura-prod-content-restore-shard',
          ],
        },
      },
    });
  });

  it('creates a VPC with no way out, the groups and the DB subnet group the restore code looks up', async () => {
    const ec2 = iso.get(EC2Client);
    const vpcId = isoR.ref('IsolatedVpc');
    const vpcs = await ec2.send(
      new DescribeVpcsCommand({
        Filters: [
          { Name: 'tag:kura:role', Values: ['isolated-network'] },
          { Name: 'tag:kura:managed', Values: ['true'] },
        ],
      }),
    );
    expect(vpcs.Vpcs?.map((v) => v.VpcId)).toContain(vpcId);
    const igw = await ec2.send(
      new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }),
    );
    expect(igw.InternetGateways ?? []).toEqual([]);
    const nat = await ec2.send(
      new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    expect(nat.NatGateways ?? []).toEqual([]);
    const rts = await ec2.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    const routes = (rts.RouteTables ?? []).flatMap((t) => t.Routes ?? []);
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(route.GatewayId, JSON.stringify(route)).toBe('local');
    const subnets = await ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    expect(subnets.Subnets?.map((s) => s.CidrBlock).sort()).toEqual(['10.213.1.0/24', '10.213.2.0/24']);
    expect(subnets.Subnets?.map((s) => s.MapPublicIpOnLaunch)).toEqual([false, false]);
    const groups = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'group-name', Values: ['kura-isolated-no-ingress', 'kura-isolated-db'] },
        ],
      }),
    );
    expect(groups.SecurityGroups?.length).toBe(2);
    for (const g of groups.SecurityGroups ?? []) {
      const open = (g.IpPermissionsEgress ?? []).flatMap((p) => p.IpRanges ?? []).map((x) => x.CidrIp);
      expect(open, g.GroupName).not.toContain('0.0.0.0/0');
      if (g.GroupName === 'kura-isolated-no-ingress') expect(g.IpPermissions ?? []).toEqual([]);
    }
    const sng = await iso
      .get(RDSClient)
      .send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: 'kura-isolated' }));
    expect(sng.DBSubnetGroups?.[0]?.VpcId).toBe(vpcId);
  });

  it('is the network, key and bucket the restore code finds, so it creates none of its own', async () => {
    // Act: what every restore and validation run does first in the isolated account.
    const network = await ensureIsolatedNetwork(iso, REGION);
    const key = await ensureIsolatedKey(iso, REGION);
    const bucket = await ensureIsolatedBucket(iso, ISOLATED_ACCOUNT, REGION);

    // Assess
    expect(network).toEqual({
      vpcId: isoR.ref('IsolatedVpc'),
      subnetIds: [isoR.ref('PrivateSubnetA'), isoR.ref('PrivateSubnetB')],
      securityGroupId: isoR.ref('NoIngressSecurityGroup'),
      dbSecurityGroupId: isoR.ref('DatabaseSecurityGroup'),
      dbSubnetGroup: 'kura-isolated', // moto reports no physical id for AWS::RDS::DBSubnetGroup
    });
    expect(await isolationFindings(iso, network.vpcId, REGION)).toEqual([]);
    expect(key).toBe(isoR.getAtt('IsolatedKey', 'Arn'));
    expect(bucket).toBe(isoR.ref('RestoreBucket'));
  });

  it('creates the isolated key with rotation under the alias the restore code looks up', async () => {
    const kms = iso.get(KMSClient);
    const d = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/kura-isolated-restore' }));
    expect(d.KeyMetadata?.KeyId).toBe(isoR.ref('IsolatedKey'));
    expect(
      (await kms.send(new GetKeyRotationStatusCommand({ KeyId: isoR.ref('IsolatedKey') })))
        .KeyRotationEnabled,
    ).toBe(true);
  });
});
