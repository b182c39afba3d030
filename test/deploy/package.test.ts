// The deployable artefact: `sls package` with no credentials and no network,
// cfn-lint on the template, and the policy's decisions visible in it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { schedulesFromPolicy } from '../../shared/domain/schedules.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTION_ROLES, VAULT_DATA_ACTIONS } from '../../deploy/template.ts';
import { lambdaLogicalId } from '../../deploy/logical-ids.ts';
import {
  PACKAGE_DIR,
  packagedTemplate,
  ROOT,
  TEMPLATE,
  type Template,
} from '../support/packaged-template.ts';
import { requireTool } from '../support/tools.ts';
import { type CfnTemplate, parseCfnYaml } from './cfn.ts';

const exec = promisify(execFile);
let template: Template;
const policy = loadPolicy();

beforeAll(async () => {
  template = await packagedTemplate();
}, 600_000);

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const ISOLATED_TEMPLATE = join(ROOT, 'deploy/isolated-account.yml');
const isolated = parseCfnYaml(readFileSync(ISOLATED_TEMPLATE, 'utf8'));

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Principal?: unknown;
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** Every statement of every identity policy (role inline policies, managed and standalone policies). */
function identityStatements(t: Template | CfnTemplate): { where: string; st: Statement }[] {
  return Object.entries(t.Resources).flatMap(([id, r]) => {
    const docs: { PolicyDocument: { Statement: Statement[] } }[] =
      r.Type === 'AWS::IAM::Role'
        ? (r.Properties?.Policies ?? [])
        : r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy'
          ? [r.Properties as { PolicyDocument: { Statement: Statement[] } }]
          : [];
    return docs.flatMap((d) =>
      d.PolicyDocument.Statement.map((st) => ({ where: `${id} ${st.Sid ?? ''}`, st })),
    );
  });
}

/**
 * cfn-lint's findings on a file (parseable format, one a line) and its exit
 * code: bit 2 errors, 4 warnings, 8 informational. Fails the check when
 * cfn-lint is missing (with the install command) or could not lint (exit 1).
 */
async function cfnLint(file: string): Promise<{ code: number; findings: string[] }> {
  const bin = requireTool('cfn-lint');
  const out = await exec(bin, ['--format', 'parseable', file]).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (err: { code?: unknown; stdout?: string }) => {
      if (typeof err.code !== 'number' || (err.code & 1) !== 0) throw err;
      return { code: err.code, stdout: err.stdout ?? '' };
    },
  );
  return { code: out.code, findings: out.stdout.split('\n').filter(Boolean) };
}

/**
 * The vault's lifecycle rules as backup-policy.yml means them, written out:
 * content keeps 7 daily generations (an object replaced or deleted stays 8
 * days as a noncurrent version); access logs are kept 7 years (2557 days),
 * application and system logs 1 year (365 days); monthly bundles move to
 * STANDARD_IA at 30 days, GLACIER_IR at 90 and DEEP_ARCHIVE at 180, and
 * expire 57 days before the retention (the least age a log has when its
 * month is bundled, with keepMonths 2), so every line is kept its full term.
 * A removed version goes no sooner than its Object Lock ends: replaced content
 * objects 16 days after (their lock is lengthened while generations reference
 * them), pruned content manifests 8 days after pruning, originals replaced by a bundle 124 days
 * (4 months of 31 days: until bundled, with a missed run), bundles as long as
 * they are locked.
 */
const noncurrent = (days: number) => ({ NoncurrentVersionExpiration: { NoncurrentDays: days } });
const BUNDLE_TRANSITIONS = {
  ObjectSizeGreaterThan: 131072,
  TagFilters: [{ Key: 'kura:object', Value: 'bundle' }],
  Transitions: [
    { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
    { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
    { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 180 },
  ],
};
const EXPECTED_LIFECYCLE = [
  {
    Id: 'abort-incomplete-multipart-uploads',
    Prefix: '',
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
  },
  ...['app1-images', 'app2-images'].flatMap((c) => [
    {
      Id: `content-${c}-noncurrent`,
      Prefix: `content/${c}/objects/`,
      NoncurrentVersionExpiration: { NoncurrentDays: 16, NewerNoncurrentVersions: 7 },
    },
    { Id: `content-${c}-pruned-manifests`, Prefix: `manifests/content/${c}/generations/`, ...noncurrent(8) },
    {
      Id: `content-${c}-work`,
      Prefix: `manifests/content/${c}/work/`,
      ExpirationInDays: 3,
      ...noncurrent(1),
    },
  ]),
  { Id: 'logs-access-loose', Prefix: 'logs/access/', ExpirationInDays: 2557, ...noncurrent(124) },
  {
    Id: 'logs-access-bundles-expire',
    Prefix: 'log-bundles/access/',
    ExpirationInDays: 2500,
    ...noncurrent(2500),
  },
  { Id: 'logs-access-bundles-transition', Prefix: 'log-bundles/access/', ...BUNDLE_TRANSITIONS },
  { Id: 'logs-application-loose', Prefix: 'logs/application/', ExpirationInDays: 365, ...noncurrent(124) },
  {
    Id: 'logs-application-bundles-expire',
    Prefix: 'log-bundles/application/',
    ExpirationInDays: 308,
    ...noncurrent(308),
  },
  { Id: 'logs-application-bundles-transition', Prefix: 'log-bundles/application/', ...BUNDLE_TRANSITIONS },
  { Id: 'logs-system-loose', Prefix: 'logs/system/', ExpirationInDays: 365, ...noncurrent(124) },
  {
    Id: 'logs-system-bundles-expire',
    Prefix: 'log-bundles/system/',
    ExpirationInDays: 308,
    ...noncurrent(308),
  },
  { Id: 'logs-system-bundles-transition', Prefix: 'log-bundles/system/', ...BUNDLE_TRANSITIONS },
  // A bundle written across invocations: its pending state, until its manifest is written.
  { Id: 'logs-bundle-work', Prefix: 'log-bundles-work/', ExpirationInDays: 14, ...noncurrent(1) },
  // Seals go with the records they seal (pruned content indexes, expired bundle manifests).
  ...['app1-images', 'app2-images'].map((c) => ({
    Id: `seals-content-${c}-pruned-manifests`,
    Prefix: `seals/manifests/content/${c}/generations/`,
    ...noncurrent(8),
  })),
  ...[
    ['access', 2500],
    ['application', 308],
    ['system', 308],
  ].map(([c, days]) => ({
    Id: `seals-logs-${c}-bundles-expire`,
    Prefix: `seals/log-bundles/${c}/`,
    ExpirationInDays: days,
    ...noncurrent(days as number),
  })),
].map((r) => ({ Status: 'Enabled', ...r }));

describe('the packaged CloudFormation template', () => {
  it('passes cfn-lint without errors, and without warnings but the accepted W3005', async () => {
    const { code, findings } = await cfnLint(TEMPLATE);
    const errors = findings.filter((l) => /:E\d{4}:/.test(l));
    expect(errors).toEqual([]);
    expect(code & 2).toBe(0);
    // Warnings accepted: W3005 only, on the DependsOn the framework and the
    // step-functions plugin emit (a role already implied by a GetAtt).
    const others = findings.filter((l) => !/:W3005:/.test(l));
    expect(others).toEqual([]);
  });

  it('runs every function on nodejs22.x, arm64, with the policy compiled into its code, not its environment', async () => {
    const fns = ofType('AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThan(0);
    for (const [, fn] of fns) {
      expect(fn.Properties?.Runtime).toBe('nodejs22.x');
      expect(fn.Properties?.Architectures).toEqual(['arm64']);
      // Lambda's environment holds 4 KB in all: a policy with many sources would not fit.
      expect(fn.Properties?.Environment?.Variables?.KURA_POLICY_JSON).toBeUndefined();
    }
    const code = await exec('unzip', ['-p', join(PACKAGE_DIR, 'rds-snapshot.zip')], {
      maxBuffer: 64 * 1024 * 1024,
    });
    // The policy's JSON, as a string literal in the bundle.
    expect(code.stdout).toContain(JSON.stringify(policy));
  });

  it("runs one log-archive invocation at a time, content shards and log groups up to their Map's concurrency, and lets every content step time out in Lambda first", () => {
    // Scheduler delivers at least once: a duplicate run waits instead of racing the first.
    const [, archive] =
      ofType('AWS::Lambda::Function').find(([id]) => id === lambdaLogicalId('log-archive')) ?? [];
    expect(archive?.Properties?.ReservedConcurrentExecutions).toBe(1);
    const [, bundle] =
      ofType('AWS::Lambda::Function').find(([id]) => id === lambdaLogicalId('log-bundle')) ?? [];
    const groups = parseCfnYaml(
      readFileSync(join(ROOT, 'statemachines/log-bundle.asl.yml'), 'utf8'),
    ) as unknown as {
      States: Record<
        string,
        { MaxConcurrency?: number; ItemProcessor?: { ProcessorConfig?: { Mode?: string } } }
      >;
    };
    expect(groups.States.Groups?.ItemProcessor?.ProcessorConfig?.Mode).toBe('DISTRIBUTED');
    expect(Number(bundle?.Properties?.ReservedConcurrentExecutions)).toBeGreaterThan(
      Number(groups.States.Groups?.MaxConcurrency),
    );
    const [, content] =
      ofType('AWS::Lambda::Function').find(([id]) => id === lambdaLogicalId('content-backup')) ?? [];
    type State = {
      TimeoutSeconds?: number;
      MaxConcurrency?: number;
      ItemProcessor?: { ProcessorConfig?: { Mode?: string }; States: Record<string, State> };
    };
    const asl = parseCfnYaml(
      readFileSync(join(ROOT, 'statemachines/content-backup.asl.yml'), 'utf8'),
    ) as unknown as { States: Record<string, State> };
    const map = asl.States.Shards;
    expect(map?.ItemProcessor?.ProcessorConfig?.Mode).toBe('DISTRIBUTED');
    // Every shard may run at once, with room for a plan or finish step: none is throttled forever.
    expect(Number(content?.Properties?.ReservedConcurrentExecutions)).toBeGreaterThan(
      Number(map?.MaxConcurrency),
    );
    const timeout = Number(content?.Properties?.Timeout);
    for (const t of [asl.States.Plan, asl.States.Finish, map?.ItemProcessor?.States.Shard])
      expect(t?.TimeoutSeconds).toBeGreaterThan(timeout);
  });

  it('schedules each deployed target from the policy, in the policy time zone', () => {
    const schedules = ofType('AWS::Scheduler::Schedule').map(([, r]) => r.Properties as Record<string, any>);
    const deployed = schedulesFromPolicy(policy).filter((s) =>
      schedules.some((d) => String(d.Description).startsWith(`kura ${s.target}:`)),
    );
    expect(deployed.map((s) => s.target)).toContain('rds-snapshot');
    for (const s of deployed) {
      const d = schedules.find((x) => String(x.Description).startsWith(`kura ${s.target}:`));
      expect(d?.ScheduleExpression).toBe(s.expression);
      expect(d?.ScheduleExpressionTimezone).toBe('Asia/Tokyo');
      expect(JSON.parse(d?.Target.Input).time).toBe('<aws.scheduler.scheduled-time>');
    }
  });

  it('schedules the yearly rehearsal as the restore state machine restoring every class at the scheduled time', () => {
    const schedules = ofType('AWS::Scheduler::Schedule').map(([, r]) => r.Properties as Record<string, any>);
    const rehearsal = schedules.find((x) => String(x.Description).startsWith('kura rehearsal:'));
    expect(rehearsal?.ScheduleExpression).toBe(policy.schedules.rehearsal);
    expect(rehearsal?.Target.Arn).toEqual({ Ref: 'RestoreStateMachine' });
    // Scheduler writes its time into the request, so the rehearsal restores that one point.
    expect(JSON.parse(rehearsal?.Target.Input).request).toEqual({
      reason: 'yearly rehearsal',
      rehearsal: true,
      at: '<aws.scheduler.scheduled-time>',
    });
    const validation = schedules.find((x) => String(x.Description).startsWith('kura validation:'));
    expect(JSON.parse(validation?.Target.Input).request).toBeUndefined();
  });

  it('declares the vault versioned, locked, KMS-encrypted, private and TLS-only, with the policy lifecycle', () => {
    const bucket = template.Resources.VaultBucket?.Properties as Record<string, any>;
    expect(bucket.BucketName).toBe(policy.vault.bucket);
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.ObjectLockConfiguration.Rule.DefaultRetention).toEqual({ Mode: 'COMPLIANCE', Days: 7 });
    expect(
      bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
    ).toBe('aws:kms');
    expect(Object.values(bucket.PublicAccessBlockConfiguration)).toEqual([true, true, true, true]);
    expect(bucket.LifecycleConfiguration.Rules).toEqual(EXPECTED_LIFECYCLE);
    const statement = template.Resources.VaultBucketPolicy?.Properties?.PolicyDocument.Statement[0];
    expect(statement).toMatchObject({
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });

  it('lets functions delete only kura-managed resources', () => {
    type Statement = {
      Sid?: string;
      Effect: string;
      Action: string | string[];
      Resource: unknown;
      Condition?: unknown;
    };
    const statements = ofType('AWS::IAM::Role').flatMap(([role, r]) =>
      ((r.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) =>
        p.PolicyDocument.Statement.map((st) => ({ role, st })),
      ),
    );
    const destructive = statements.filter(
      ({ st }) =>
        st.Effect === 'Allow' &&
        [st.Action].flat().some((a) => /:(Delete|Deregister|Terminate)/.test(a) && a !== 's3:DeleteObject'),
    );
    expect(destructive.length).toBeGreaterThan(0);
    // EC2/RDS/KMS resources: only with the kura:managed tag condition.
    for (const { role, st } of destructive)
      expect(JSON.stringify(st.Condition ?? {}), `${role} ${st.Sid}`).toContain('kura:managed');
    // S3 object deletes: only inside the vault (all kura's) or the log landing prefix (a verified move).
    const s3Deletes = statements.filter(
      ({ st }) => st.Effect === 'Allow' && [st.Action].flat().includes('s3:DeleteObject'),
    );
    for (const { role, st } of s3Deletes) {
      const where = JSON.stringify(st.Resource);
      expect(
        where.includes('VaultBucket') || /landing|LogLanding/i.test(`${st.Sid} ${where}`),
        `${role} ${st.Sid}: ${where}`,
      ).toBe(true);
      expect(where).not.toBe('"*"');
    }
    // Nothing may bypass Object Lock governance retention.
    for (const { role, st } of statements)
      expect([st.Action].flat(), role).not.toContain('s3:BypassGovernanceRetention');
  });
});

describe('the security properties of the packaged template', () => {
  it('allows no "*" or "service:*" action in any IAM policy, and attaches only the Lambda basics', () => {
    const statements = identityStatements(template);
    expect(statements.length).toBeGreaterThan(20);
    for (const { where, st } of statements)
      for (const a of [st.Action].flat()) expect(a, where).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
    const attached = new Set(
      ofType('AWS::IAM::Role').flatMap(([, r]) => r.Properties?.ManagedPolicyArns ?? []),
    );
    for (const arn of attached)
      expect([
        'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
        'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess',
      ]).toContain(arn);
  });

  it('gives every function a role of its own', () => {
    const roles = ofType('AWS::Lambda::Function').map(([id, fn]) => [
      id,
      fn.Properties?.Role['Fn::GetAtt'][0],
    ]);
    expect(Object.fromEntries(roles)).toEqual(
      Object.fromEntries(Object.entries(FUNCTION_ROLES).map(([fn, role]) => [lambdaLogicalId(fn), role])),
    );
    expect(new Set(roles.map(([, r]) => r)).size).toBe(roles.length);
  });

  it('keeps backup data to the administrators and the function roles (bucket policy), TLS only', () => {
    const statements = template.Resources.VaultBucketPolicy?.Properties?.PolicyDocument
      .Statement as Statement[];
    const tls = statements.find((st) => st.Sid === 'DenyInsecureTransport');
    expect(tls).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 's3:*' });
    const data = statements.find((st) => st.Sid === 'DenyDataToAllButAdministratorsAndKura');
    expect(data).toMatchObject({ Effect: 'Deny', Principal: '*', Action: VAULT_DATA_ACTIONS });
    expect([data?.Action].flat()).toEqual(
      expect.arrayContaining(['s3:GetObject*', 's3:PutObject*', 's3:DeleteObject*']),
    );
    const allowed = JSON.stringify(data?.Condition?.ArnNotLike?.['aws:PrincipalArn']);
    for (const role of Object.values(FUNCTION_ROLES)) expect(allowed).toContain(`["${role}","Arn"]`);
    for (const admin of policy.vault.administrators) expect(allowed).toContain(admin);
    expect(data?.Condition?.Bool).toEqual({ 'aws:PrincipalIsAWSService': 'false' });
  });

  it('rotates the vault key and keeps its use to the administrators and the stack roles', () => {
    const key = template.Resources.VaultKey?.Properties as Record<string, any>;
    expect(key.EnableKeyRotation).toBe(true);
    const statements = key.KeyPolicy.Statement as Statement[];
    // kms:* only for the account root (key administration through IAM); nobody else is allowed anything.
    for (const st of statements.filter((x) => x.Effect === 'Allow'))
      expect(JSON.stringify(st.Principal), st.Sid).toMatch(/:root/);
    const deny = statements.find((st) => st.Effect === 'Deny');
    expect([deny?.Action].flat()).toEqual(
      expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey', 'kms:CreateGrant']),
    );
    const allowed = JSON.stringify(deny?.Condition?.ArnNotLike?.['aws:PrincipalArn']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
    expect(allowed).toContain('role/${AWS::StackName}-*');
    for (const admin of policy.vault.administrators) expect(allowed).toContain(admin);
  });

  it('sends every failed scheduled run to a KMS-encrypted dead-letter queue the senders may write to', () => {
    const dlq = { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] };
    for (const [id, s] of ofType('AWS::Scheduler::Schedule'))
      expect(s.Properties?.Target.DeadLetterConfig, id).toEqual({ Arn: dlq });
    const queue = template.Resources.DeadLetterQueue?.Properties;
    expect(queue?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': ['OpsKey', 'Arn'] });
    expect(template.Resources.OpsKey?.Properties?.EnableKeyRotation).toBe(true);
    const asyncTargets = schedulesFromPolicy(policy).filter((s) => s.kind === 'function');
    expect(asyncTargets.length).toBeGreaterThan(0);
    const invokeConfigs = ofType('AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties);
    for (const s of asyncTargets)
      expect(invokeConfigs, s.target).toContainEqual(
        expect.objectContaining({
          FunctionName: { Ref: lambdaLogicalId(s.target) },
          DestinationConfig: { OnFailure: { Destination: dlq } },
        }),
      );
    const senders = ['SchedulerRole', ...asyncTargets.map((s) => FUNCTION_ROLES[s.target])];
    const sending = template.Resources.DeadLetterSendingPolicy?.Properties;
    expect(sending?.Roles).toEqual(senders.map((r) => ({ Ref: r })));
    const queuePolicy = template.Resources.DeadLetterQueuePolicy?.Properties?.PolicyDocument.Statement[0];
    expect(queuePolicy).toMatchObject({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: dlq });
    expect(queuePolicy.Principal.AWS).toContainEqual({ 'Fn::GetAtt': ['SchedulerRole', 'Arn'] });
  });

  it('raises an alarm to the alert topic on every function error, failed or timed-out execution and dead letter', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties as Record<string, any>);
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: 'AlertTopic' }]);
    const watched = (ns: string, metric: string) =>
      alarms
        .filter((a) => a.Namespace === ns && a.MetricName === metric)
        .map((a) => JSON.stringify(a.Dimensions[0].Value));
    for (const [id] of ofType('AWS::Lambda::Function'))
      expect(watched('AWS/Lambda', 'Errors'), id).toContain(JSON.stringify({ Ref: id }));
    for (const [id] of ofType('AWS::StepFunctions::StateMachine'))
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut'])
        expect(watched('AWS/States', metric), `${id} ${metric}`).toContain(JSON.stringify({ Ref: id }));
    expect(watched('AWS/SQS', 'ApproximateNumberOfMessagesVisible')).toEqual([
      JSON.stringify({ 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] }),
    ]);
    // CloudWatch may publish to the topic and use its key.
    const topic = template.Resources.AlertTopic?.Properties;
    expect(topic?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': ['OpsKey', 'Arn'] });
    const topicPolicy = template.Resources.AlertTopicPolicy?.Properties?.PolicyDocument.Statement[0];
    expect(topicPolicy).toMatchObject({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
    });
    const keyUse = (template.Resources.OpsKey?.Properties?.KeyPolicy.Statement as Statement[]).find(
      (st) => JSON.stringify(st.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }),
    );
    expect(keyUse?.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it("keeps every function's own log group for logRetentionInDays", () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const group = ofType('AWS::Logs::LogGroup').find(
        ([, g]) => g.Properties?.LogGroupName === `/aws/lambda/${fn.Properties?.FunctionName}`,
      );
      expect(group?.[1].Properties?.RetentionInDays, id).toBe(400);
      expect(fn.DependsOn, id).toContain(group?.[0]);
    }
  });
});

describe('the isolated-account template', () => {
  const res = isolated.Resources;

  it('passes cfn-lint with no findings at all', async () => {
    expect(await cfnLint(ISOLATED_TEMPLATE)).toEqual({ code: 0, findings: [] });
  });

  it('defaults to the role and external id backup-policy.yml names', () => {
    expect(policy.isolatedAccount?.roleArn).toBe(
      `arn:aws:iam::${policy.isolatedAccount?.accountId}:role/${isolated.Parameters?.RestoreRoleName?.Default}`,
    );
    expect(isolated.Parameters?.ExternalId?.Default).toBe(policy.isolatedAccount?.externalId);
  });

  it('lets only the backup account assume the restore role, and only with the external id', () => {
    const trust = res.RestoreRole?.Properties?.AssumeRolePolicyDocument.Statement as Statement[];
    expect(trust).toHaveLength(1);
    expect(trust[0]).toMatchObject({
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
      Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${BackupAccountId}:root' } },
      Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
    });
  });

  it('allows no "*" action, and destructive actions only on kura-managed resources', () => {
    const statements = identityStatements(isolated);
    for (const { where, st } of statements)
      for (const a of [st.Action].flat()) expect(a, where).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
    const destructive = statements.filter(({ st }) =>
      [st.Action]
        .flat()
        .some((a) => /:(Delete|Deregister|Terminate|Modify)/.test(a) && a !== 's3:DeleteObject'),
    );
    expect(destructive.length).toBeGreaterThan(0);
    // The probe runner's Lambda manages its own network interfaces in the isolated subnets:
    // exactly the actions of AWS's AWSLambdaVPCAccessExecutionRole (the interfaces carry no tag).
    const LAMBDA_VPC = [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ];
    for (const { where, st } of destructive) {
      if (where === 'ProbeRunnerRole NetworkInterfacesInTheIsolatedVpc') {
        expect([st.Action].flat().sort()).toEqual([...LAMBDA_VPC].sort());
        continue;
      }
      expect(JSON.stringify(st.Condition ?? {}), where).toContain('kura:managed');
    }
    // The network is the stack's: the role cannot build a way out.
    const actions = statements.flatMap(({ st }) => [st.Action].flat());
    for (const a of [
      'ec2:CreateVpc',
      'ec2:CreateInternetGateway',
      'ec2:CreateRoute',
      'ec2:AttachInternetGateway',
    ])
      expect(actions).not.toContain(a);
  });

  it('builds a network with no way out: no gateway or route resources, private subnets, closed groups but the route in', () => {
    const types = Object.values(res).map((r) => r.Type);
    for (const t of [
      'AWS::EC2::InternetGateway',
      'AWS::EC2::VPCGatewayAttachment',
      'AWS::EC2::NatGateway',
      'AWS::EC2::EgressOnlyInternetGateway',
      'AWS::EC2::Route',
      'AWS::EC2::VPCPeeringConnection',
      'AWS::EC2::TransitGatewayAttachment',
      'AWS::EC2::VPNGateway',
      'AWS::EC2::EIP',
    ])
      expect(types).not.toContain(t);
    for (const [, s] of Object.entries(res).filter(([, r]) => r.Type === 'AWS::EC2::Subnet'))
      expect(s.Properties?.MapPublicIpOnLaunch).toBe(false);
    const vpcCidr = res.IsolatedVpc?.Properties?.CidrBlock;
    const forAccess = (r: { Properties?: { Tags?: { Key: string; Value: string }[] } }) =>
      (r.Properties?.Tags ?? []).some((t) => t.Key === 'kura:purpose' && t.Value === 'access');
    const forProbes = (r: { Properties?: { Tags?: { Key: string; Value: string }[] } }) =>
      (r.Properties?.Tags ?? []).some((t) => t.Key === 'kura:purpose' && t.Value === 'probes');
    for (const [id, g] of Object.entries(res).filter(([, r]) => r.Type === 'AWS::EC2::SecurityGroup')) {
      // The route in (Session Manager): HTTPS inside the VPC, and the database ports to the database group.
      const inside = (e: { CidrIp?: string; FromPort?: number; DestinationSecurityGroupId?: unknown }) =>
        (e.CidrIp === vpcCidr && e.FromPort === 443) ||
        JSON.stringify(e.DestinationSecurityGroupId) === JSON.stringify({ Ref: 'DatabaseSecurityGroup' });
      // The probe runner: database ports of the database group, 443 of the Secrets Manager endpoint's group.
      const probeEgress = (e: { FromPort?: number; DestinationSecurityGroupId?: unknown }) =>
        JSON.stringify(e.DestinationSecurityGroupId) === JSON.stringify({ Ref: 'DatabaseSecurityGroup' }) ||
        (e.FromPort === 443 &&
          JSON.stringify(e.DestinationSecurityGroupId) ===
            JSON.stringify({ Ref: 'SecretsEndpointSecurityGroup' }));
      for (const i of g.Properties?.SecurityGroupIngress ?? []) {
        expect(forAccess(g), `${id} has ingress`).toBe(true);
        expect(inside(i), id).toBe(true);
      }
      for (const e of g.Properties?.SecurityGroupEgress ?? [])
        if (!(forAccess(g) && inside(e)) && !(forProbes(g) && probeEgress(e)))
          expect(e.CidrIp, id).toBe('255.255.255.255/32');
    }
    // Its endpoints are interface endpoints (no route), tagged for the isolation check: the
    // route in (three), and the probe runner's Secrets Manager endpoint behind its own group.
    const endpoints = Object.entries(res).filter(([, r]) => r.Type === 'AWS::EC2::VPCEndpoint');
    expect(endpoints.length).toBe(4);
    for (const [id, e] of endpoints) {
      expect(e.Properties?.VpcEndpointType, id).toBe('Interface');
      if (forProbes(e)) {
        expect(JSON.stringify(e.Properties?.ServiceName), id).toContain('.secretsmanager');
        expect(e.Properties?.SecurityGroupIds, id).toEqual([{ Ref: 'SecretsEndpointSecurityGroup' }]);
        continue;
      }
      expect(forAccess(e), id).toBe(true);
      expect(e.Properties?.SecurityGroupIds, id).toEqual([{ Ref: 'EndpointSecurityGroup' }]);
    }
    const ingress = Object.entries(res).filter(([, r]) => r.Type === 'AWS::EC2::SecurityGroupIngress');
    for (const [id, i] of ingress) {
      expect(i.Properties?.SourceSecurityGroupId, id).toEqual({
        Ref: id === 'SecretsEndpointFromProbeRunner' ? 'ProbeRunnerSecurityGroup' : 'DatabaseSecurityGroup',
      });
      expect(i.Properties?.CidrIp).toBeUndefined();
    }
  });

  it('keeps restored data under a rotated customer-managed key, in a private TLS-only bucket', () => {
    expect(res.IsolatedKey?.Properties?.EnableKeyRotation).toBe(true);
    expect(res.IsolatedKeyAlias?.Properties?.AliasName).toBe('alias/kura-isolated-restore');
    const bucket = res.RestoreBucket?.Properties as Record<string, any>;
    expect(Object.values(bucket.PublicAccessBlockConfiguration)).toEqual([true, true, true, true]);
    expect(
      bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
    ).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: { 'Fn::GetAtt': ['IsolatedKey', 'Arn'] },
    });
    const sids = (res.RestoreBucketPolicy?.Properties?.PolicyDocument.Statement as Statement[]).map(
      (s) => s.Sid,
    );
    expect(sids).toEqual(['DenyInsecureTransport', 'DenyDataToAllButRestoreRoleAndAdministrators']);
  });
});
