// Deployment: the CloudFormation pieces generated from the policy (schedules,
// vault, failed-run handling and alarms). serverless.yml reads them through
// deploy/from-policy.cjs, so nothing the policy decides is hand-copied into
// the template.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FUNCTIONS } from '../functions/registry.ts';
import { lambdaLogicalId, stateMachineLogicalId } from './logical-ids.ts';
import { cloudFormationRules } from '../shared/domain/lifecycle/index.ts';
import { scheduleTarget, schedulesFromPolicy } from '../shared/domain/schedules.ts';
import { loadPolicy } from '../shared/policy/load.ts';
import type { Policy } from '../shared/policy/schema.ts';
import { sourceAccounts } from '../shared/policy/sources.ts';
import { sourceVaultPrefixes } from './source-stack.ts';
import { parse as parseYaml } from 'yaml';

type Resources = Record<string, { Type: string; [k: string]: unknown }>;

/**
 * The role of each function, as serverless.yml names it (`role:`), the roles
 * declared in deploy/iam/. The deploy test checks this against the template.
 */
export const FUNCTION_ROLES: Record<string, string> = {
  'rds-snapshot': 'RdsSnapshotRole',
  'ami-backup': 'AmiBackupRole',
  restore: 'RestoreRole',
  'restore-database': 'RestoreDatabaseRole',
  'restore-image': 'RestoreImageRole',
  'restore-content': 'RestoreContentRole',
  'restore-logs': 'RestoreLogsRole',
  'validation-step': 'ValidationRole',
  'validation-report': 'ValidationReportRole',
  'validation-database': 'ValidationDatabaseRole',
  'validation-image': 'ValidationImageRole',
  'validation-content': 'ValidationContentRole',
  'validation-logs': 'ValidationLogsRole',
  'content-backup': 'ContentBackupRole',
  'content-restore-shard': 'ContentRestoreShardRole',
  'log-archive': 'LogArchiveRole',
  'log-bundle': 'LogBundleRole',
};

/**
 * kura's functions that assume the isolated account's restore role, with the
 * name their role has (RoleName kura-<stage>-<name>, deploy/iam/): the
 * isolated stack's TrustedRoleArns names exactly these roles, the restore
 * machine's plan and each class's item function among them, and the
 * validation machine's plan, its report and each class's item function.
 */
export const ISOLATED_USERS: Readonly<Record<string, string>> = {
  restore: 'restore',
  'restore-database': 'restore-database',
  'restore-image': 'restore-image',
  'restore-content': 'restore-content',
  'restore-logs': 'restore-logs',
  'validation-step': 'validation',
  'validation-report': 'validation-report',
  'validation-database': 'validation-database',
  'validation-image': 'validation-image',
  'validation-content': 'validation-content',
  'validation-logs': 'validation-logs',
  'content-restore-shard': 'content-restore-shard',
};

/** TrustedRoleArns of deploy/isolated-account.yml for a backup account and stage. */
export function isolatedTrustedRoleArns(backupAccountId: string, stage = 'prod'): string {
  return Object.values(ISOLATED_USERS)
    .map((name) => `arn:aws:iam::${backupAccountId}:role/kura-${stage}-${name}`)
    .join(',');
}

const MANAGED_TAGS = [{ Key: 'kura:managed', Value: 'true' }];
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
const ACCOUNT_ROOT = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' };

// The account root keeps kms:* on every key so that it stays manageable
// through IAM: KMS refuses a policy that locks the account out, and a key
// nobody can administer makes what it encrypts unreadable.
const ACCOUNT_ADMINISTERS_KEY = {
  Sid: 'AccountAdministers',
  Effect: 'Allow',
  Principal: { AWS: ACCOUNT_ROOT },
  Action: 'kms:*',
  Resource: '*',
};

// Roles this stack creates have generated names that start with the stack name
// (<stack>-<LogicalId>-<suffix>); key policies name them by this pattern, as a
// key policy cannot reference roles whose policies reference the key (a cycle).
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
const STACK_ROLES = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}-*' };

/** policy.vault.administrators as ARN patterns: role names are roles of the stack's account. */
export function administratorArns(policy: Policy): unknown[] {
  return policy.vault.administrators.map((a) =>
    a.startsWith('arn:')
      ? a
      : // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
        { 'Fn::Sub': ['arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Name}', { Name: a }] },
  );
}

/** State machines deployed from statemachines/*.asl.yml (serverless.yml gives each the id stateMachineLogicalId(name)). */
export function deployedStateMachines(): string[] {
  const dir = fileURLToPath(new URL('../statemachines/', import.meta.url));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.asl.yml'))
    .map((f) => f.slice(0, -'.asl.yml'.length))
    .sort();
}

/** Functions the schedules invoke directly: Scheduler invokes Lambda asynchronously. */
function asyncFunctions(policy: Policy): string[] {
  return schedulesFromPolicy(policy)
    .filter((s) => s.kind === 'function' && FUNCTIONS[s.target])
    .map((s) => s.target);
}

function pascal(name: string): string {
  return name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
}

function stateMachineExists(name: string): boolean {
  return existsSync(fileURLToPath(new URL(`../statemachines/${name}.asl.yml`, import.meta.url)));
}

/** One EventBridge Scheduler schedule per policy entry whose target is deployed. */
export function scheduleResources(policy: Policy): Resources {
  const out: Resources = {};
  const targets: unknown[] = [];
  for (const s of schedulesFromPolicy(policy)) {
    const isFn = s.kind === 'function';
    const { machine, input } = scheduleTarget(s.target);
    if (isFn ? !FUNCTIONS[s.target] : !stateMachineExists(machine)) continue;
    const arn = isFn
      ? { 'Fn::GetAtt': [lambdaLogicalId(s.target), 'Arn'] }
      : { Ref: stateMachineLogicalId(machine) };
    targets.push(arn);
    out[`${pascal(s.target)}Schedule`] = {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Name: { 'Fn::Sub': `\${AWS::StackName}-${s.target}` },
        Description: `kura ${s.target}: ${s.expression} in ${s.timezone} (from backup-policy.yml)`,
        ScheduleExpression: s.expression,
        ScheduleExpressionTimezone: s.timezone,
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: arn,
          RoleArn: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
          // The scheduled time, not the delivery time, is the run's "now".
          Input: JSON.stringify({
            source: 'kura.scheduler',
            'detail-type': 'Scheduled Event',
            time: '<aws.scheduler.scheduled-time>',
            detail: {},
            ...input,
          }),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          // A run that could not be started after the retries lands here (and raises the DLQ alarm).
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } },
        },
      },
    };
  }
  if (targets.length === 0) return out;
  out.SchedulerRole = {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'invoke-kura-targets',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: ['lambda:InvokeFunction', 'states:StartExecution'],
                Resource: targets,
              },
            ],
          },
        },
      ],
      Tags: MANAGED_TAGS,
    },
  };
  return out;
}

/** Cryptographic use of a key: what the vault key's policy keeps to administrators and kura. */
const KEY_USE = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:CreateGrant',
];

/** What only the break-glass role may do to the vault key. */
export const KEY_DESTRUCTION = ['kms:ScheduleKeyDeletion', 'kms:DisableKey'];

/** The stack parameter naming the break-glass role (a role of the stack's account). */
export const BREAK_GLASS_PARAMETER = 'BreakGlassRoleName';
const BREAK_GLASS_ROLE = {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
  'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${BreakGlassRoleName}',
};

export function stackParameters() {
  return {
    [BREAK_GLASS_PARAMETER]: {
      Type: 'String',
      Default: 'kura-break-glass',
      AllowedPattern: '^[\\w+=,.@-]{1,64}$',
      Description:
        'The only role that may disable or schedule the deletion of the vault key (create it apart, under two-person control)',
    },
  };
}

/** Object-level (data) actions on the vault: what its bucket policy keeps to administrators and kura. */
export const VAULT_DATA_ACTIONS = [
  's3:GetObject*',
  's3:PutObject*',
  's3:DeleteObject*',
  's3:ListBucket*',
  's3:ListMultipartUploadParts',
  's3:AbortMultipartUpload',
  's3:RestoreObject',
  's3:BypassGovernanceRetention',
];

/** What a source account's kura-source role may do in the vault: add objects, tag them at the write, state their lock. */
export const SOURCE_VAULT_ACTIONS = ['s3:PutObject', 's3:PutObjectTagging', 's3:PutObjectRetention'];

/**
 * The vault bucket policy's statements for the source accounts' kura-source
 * roles (none in single-account mode). A cross-account write needs both the
 * role's own policy (deploy/source-account.yml) and these: each role may add
 * objects only under its own prefixes (sourceVaultPrefixes), stating the
 * vault's lock mode, and nothing else at all (no read, no delete, no
 * configuration), whatever its own account grants it.
 */
function sourceVaultStatements(policy: Policy, vaultArn: unknown, objectsArn: unknown): unknown[] {
  const sources = sourceAccounts(policy);
  if (!sources.length) return [];
  const under = (prefixes: string[]) => prefixes.map((p) => ({ 'Fn::Sub': `\${VaultBucket.Arn}/${p}*` }));
  return [
    {
      Sid: 'SourceRolesOnlyAddObjects',
      Effect: 'Deny',
      Principal: '*',
      NotAction: SOURCE_VAULT_ACTIONS,
      Resource: [vaultArn, objectsArn],
      Condition: { ArnLike: { 'aws:PrincipalArn': sources.map((s) => s.roleArn) } },
    },
    ...sources.flatMap((s) => {
      const prefixes = sourceVaultPrefixes(policy, s.accountId);
      const own = prefixes.length ? under(prefixes) : [];
      const id = `Source${s.accountId}`;
      return [
        {
          Sid: `${id}OnlyUnderItsPrefixes`,
          Effect: 'Deny',
          Principal: '*',
          Action: SOURCE_VAULT_ACTIONS,
          NotResource: own.length ? own : [vaultArn],
          Condition: { ArnLike: { 'aws:PrincipalArn': s.roleArn } },
        },
        ...(own.length
          ? [
              {
                Sid: `${id}AddsUnderItsPrefixes`,
                Effect: 'Allow',
                Principal: { AWS: s.roleArn },
                Action: ['s3:PutObject', 's3:PutObjectTagging'],
                Resource: own,
              },
              {
                // COMPLIANCE retention can be set and lengthened, never shortened.
                Sid: `${id}StatesRetentionAtWrite`,
                Effect: 'Allow',
                Principal: { AWS: s.roleArn },
                Action: 's3:PutObjectRetention',
                Resource: own,
                Condition: { StringEquals: { 's3:object-lock-mode': policy.vault.objectLock.mode } },
              },
            ]
          : []),
      ];
    }),
  ];
}

/**
 * The vault key policy's statements for the source roles: a data key for
 * their writes through S3 in the vault's region (kms:GenerateDataKey), nothing
 * else (no decrypt: they read nothing in the vault).
 */
function sourceKeyStatements(policy: Policy): unknown[] {
  const roles = sourceAccounts(policy).map((s) => s.roleArn);
  if (!roles.length) return [];
  const viaS3 = { 'kms:ViaService': `s3.${policy.region}.amazonaws.com` };
  return [
    {
      Sid: 'SourceRolesEncryptTheirVaultWrites',
      Effect: 'Allow',
      Principal: { AWS: roles },
      Action: 'kms:GenerateDataKey',
      Resource: '*',
      Condition: { StringEquals: viaS3 },
    },
    {
      Sid: 'SourceRolesOnlyEncryptThroughS3',
      Effect: 'Deny',
      Principal: '*',
      NotAction: 'kms:GenerateDataKey',
      Resource: '*',
      Condition: { ArnLike: { 'aws:PrincipalArn': roles } },
    },
  ];
}

/** The vault: versioned, KMS-encrypted, private, TLS-only, administrators-only, Object Lock, lifecycle from the policy. */
export function vaultResources(policy: Policy): Resources {
  const admins = administratorArns(policy);
  const sourceRoles = sourceAccounts(policy).map((s) => s.roleArn);
  const functionRoles = Object.values(FUNCTION_ROLES).map((r) => ({ 'Fn::GetAtt': [r, 'Arn'] }));
  return {
    VaultKey: {
      Type: 'AWS::KMS::Key',
      // Deleting the stack must not schedule the key's deletion (the Deny below refuses it anyway).
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Description: 'kura vault key (customer managed: cross-account restores need a key policy and grants)',
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            // Using the key is narrowed by the Deny below, not by this.
            ACCOUNT_ADMINISTERS_KEY,
            {
              // Only administrators and this stack's roles may encrypt or
              // decrypt backup data, whatever their IAM policies say. AWS
              // services acting for a caller (S3) carry the caller's ARN.
              // Key administration (policy, rotation, deletion) is not denied:
              // the deploying principal and CloudFormation keep managing the key.
              // The isolated account needs no access: restores stream vault
              // data through the restore function (docs/restore.md).
              Sid: 'OnlyAdministratorsAndKuraUseTheKey',
              Effect: 'Deny',
              Principal: '*',
              Action: KEY_USE,
              Resource: '*',
              // The source roles are bounded by their own statements below.
              Condition: {
                ArnNotLike: { 'aws:PrincipalArn': [...admins, STACK_ROLES, ...sourceRoles] },
                Bool: { 'aws:PrincipalIsAWSService': 'false' },
              },
            },
            ...sourceKeyStatements(policy),
            {
              // A disabled or deleted key makes every backup unreadable: no one,
              // the account's root and CloudFormation included, may do either but
              // the break-glass role (a template parameter, used under two-person
              // control). The detective controls alert on any attempt.
              Sid: 'OnlyBreakGlassDisablesOrDeletesTheKey',
              Effect: 'Deny',
              Principal: '*',
              Action: KEY_DESTRUCTION,
              Resource: '*',
              Condition: { ArnNotEquals: { 'aws:PrincipalArn': BREAK_GLASS_ROLE } },
            },
          ],
        },
        Tags: MANAGED_TAGS,
      },
    },
    VaultKeyAlias: {
      Type: 'AWS::KMS::Alias',
      Properties: { AliasName: policy.vault.kmsKeyAlias, TargetKeyId: { Ref: 'VaultKey' } },
    },
    VaultBucket: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketName: policy.vault.bucket,
        VersioningConfiguration: { Status: 'Enabled' },
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: {
            DefaultRetention: { Mode: policy.vault.objectLock.mode, Days: policy.vault.objectLock.days },
          },
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': ['VaultKey', 'Arn'] },
              },
              BucketKeyEnabled: true,
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: cloudFormationRules(policy) },
        Tags: MANAGED_TAGS,
      },
    },
    VaultBucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'VaultBucket' },
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [
                { 'Fn::GetAtt': ['VaultBucket', 'Arn'] },
                // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
                { 'Fn::Sub': '${VaultBucket.Arn}/*' },
              ],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
            {
              // Backup data (objects and their listing) is for administrators
              // and kura's function roles only, whatever IAM policies say.
              // Bucket configuration (policy, lifecycle, Object Lock defaults)
              // is deliberately not denied here: CloudFormation acts with the
              // deploying principal's credentials, which must keep updating
              // the stack even when that principal is not an administrator,
              // and no change to configuration can shorten retention under
              // Object Lock. Data access stays with the principals listed.
              Sid: 'DenyDataToAllButAdministratorsAndKura',
              Effect: 'Deny',
              Principal: '*',
              Action: VAULT_DATA_ACTIONS,
              Resource: [
                { 'Fn::GetAtt': ['VaultBucket', 'Arn'] },
                // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
                { 'Fn::Sub': '${VaultBucket.Arn}/*' },
              ],
              // The source roles are bounded by their own statements below.
              Condition: {
                ArnNotLike: { 'aws:PrincipalArn': [...admins, ...functionRoles, ...sourceRoles] },
                Bool: { 'aws:PrincipalIsAWSService': 'false' },
              },
            },
            ...sourceVaultStatements(
              policy,
              { 'Fn::GetAtt': ['VaultBucket', 'Arn'] },
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
              { 'Fn::Sub': '${VaultBucket.Arn}/*' },
            ),
          ],
        },
      },
    },
  };
}

/**
 * Failed runs: a dead-letter queue for schedules that could not start their
 * target and for failed asynchronous Lambda invocations; alarms on every
 * function's errors, every state machine's failed and timed-out executions
 * and the queue's depth; all to the alert topic. The topic and the queue are
 * encrypted with a key of their own (the AWS managed SNS/SQS keys cannot be
 * used by CloudWatch or Scheduler), kept apart from the vault key.
 */
const OPS_KEY_ARN = { 'Fn::GetAtt': ['OpsKey', 'Arn'] };

/** Lets roles send to a resource encrypted under the operations key (the queue, the topic). */
function sendEncryptedPolicy(p: {
  description: string;
  roles: string[];
  sids: [send: string, encrypt: string];
  action: string;
  resource: unknown;
}) {
  return {
    Type: 'AWS::IAM::ManagedPolicy',
    Properties: {
      Description: p.description,
      Roles: p.roles.map((r) => ({ Ref: r })),
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Sid: p.sids[0], Effect: 'Allow', Action: p.action, Resource: p.resource },
          // Whatever else grants the action (the state machine plugin grants
          // sns:Publish on "*"), these roles send only to this resource.
          { Sid: `${p.sids[0]}Only`, Effect: 'Deny', Action: p.action, NotResource: p.resource },
          {
            Sid: p.sids[1],
            Effect: 'Allow',
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
            Resource: OPS_KEY_ARN,
          },
        ],
      },
    },
  };
}

/** The standalone detective controls template (source accounts deploy it as it is). */
export const DETECTIVE_CONTROLS_TEMPLATE = fileURLToPath(
  new URL('./detective-controls.yml', import.meta.url),
);

/**
 * The detective controls' EventBridge rules, read from deploy/detective-controls.yml
 * so that the kura stack and the source accounts alert on the same patterns.
 * Their target is `AlertTopic`, which both templates define.
 */
export function detectiveRules(): Resources {
  const t = parseYaml(readFileSync(DETECTIVE_CONTROLS_TEMPLATE, 'utf8')) as { Resources: Resources };
  return Object.fromEntries(Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule'));
}

export function failureResources(policy: Policy): Resources {
  const out: Resources = {};
  const topic = { Ref: 'AlertTopic' };
  const publishFrom = (Sid: string, service: string) => ({
    Sid,
    Effect: 'Allow',
    Principal: { Service: service },
    Action: 'sns:Publish',
    Resource: topic,
    Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
  });
  const queueArn = { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] };
  const schedules = schedulesFromPolicy(policy);
  const hasSchedules = schedules.some((s) =>
    s.kind === 'function' ? FUNCTIONS[s.target] : deployedStateMachines().includes(s.target),
  );
  const asyncFns = asyncFunctions(policy);

  out.OpsKey = {
    Type: 'AWS::KMS::Key',
    Properties: {
      Description: 'kura operations key: the alert topic and the dead-letter queue',
      EnableKeyRotation: true,
      KeyPolicy: {
        Version: '2012-10-17',
        Statement: [
          ACCOUNT_ADMINISTERS_KEY,
          {
            Sid: 'EventBridgePublishesToTheEncryptedTopic',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: '*',
          },
          {
            Sid: 'CloudWatchAlarmsPublishToTheEncryptedTopic',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: '*',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      Tags: MANAGED_TAGS,
    },
  };
  out.AlertTopic = {
    Type: 'AWS::SNS::Topic',
    Properties: {
      TopicName: policy.notifications?.topicName ?? 'kura-alerts',
      KmsMasterKeyId: OPS_KEY_ARN,
      Tags: MANAGED_TAGS,
    },
  };
  out.AlertTopicPolicy = {
    Type: 'AWS::SNS::TopicPolicy',
    Properties: {
      Topics: [topic],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          publishFrom('CloudWatchAlarmsPublish', 'cloudwatch.amazonaws.com'),
          // The detective controls (detectiveRules) alert here.
          publishFrom('DetectiveRulesPublish', 'events.amazonaws.com'),
        ],
      },
    },
  };
  Object.assign(out, detectiveRules());
  out.DeadLetterQueue = {
    Type: 'AWS::SQS::Queue',
    Properties: {
      MessageRetentionPeriod: 1_209_600, // 14 days, the maximum: time to look and replay
      KmsMasterKeyId: OPS_KEY_ARN,
      KmsDataKeyReusePeriodSeconds: 3600,
      Tags: MANAGED_TAGS,
    },
  };
  const senders = [
    ...(hasSchedules ? ['SchedulerRole'] : []),
    ...asyncFns.map((f) => FUNCTION_ROLES[f] as string),
  ];
  if (senders.length > 0) {
    out.DeadLetterQueuePolicy = {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'DeadLetterQueue' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              // EventBridge Scheduler delivers dead letters with the schedule's
              // execution role (SchedulerRole); Lambda with the function's role.
              Sid: 'KuraSendsDeadLetters',
              Effect: 'Allow',
              Principal: { AWS: senders.map((r) => ({ 'Fn::GetAtt': [r, 'Arn'] })) },
              Action: 'sqs:SendMessage',
              Resource: queueArn,
            },
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 'sqs:*',
              Resource: queueArn,
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    };
    // kept (sqs:SendMessage): Scheduler and Lambda's asynchronous invocation send dead letters with these roles, on AWS's side, never from kura's code
    out.DeadLetterSendingPolicy = sendEncryptedPolicy({
      description: 'kura: send dead letters (failed schedules, failed asynchronous invocations)',
      roles: senders,
      sids: ['SendDeadLetters', 'EncryptDeadLetters'],
      action: 'sqs:SendMessage',
      resource: queueArn,
    });
  }
  for (const fn of asyncFns) {
    out[`${pascal(fn)}AsyncFailures`] = {
      Type: 'AWS::Lambda::EventInvokeConfig',
      // Lambda checks at creation that the function's role may send to the destination.
      DependsOn: ['DeadLetterSendingPolicy'],
      Properties: {
        FunctionName: { Ref: lambdaLogicalId(fn) },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: queueArn } },
      },
    };
  }
  // The validation machine (and the restore machine for a yearly rehearsal) publish a FAIL
  // verdict to the topic; the plugin's role allows sns:Publish but not the topic's key.
  const publishers = ['validation', 'restore'].filter((m) => deployedStateMachines().includes(m));
  if (publishers.length) {
    out.AlertPublishingPolicy = sendEncryptedPolicy({
      description: 'kura: publish to the encrypted alert topic',
      roles: publishers.map((m) => `${stateMachineLogicalId(m)}Role`),
      sids: ['PublishAlerts', 'EncryptAlerts'],
      action: 'sns:Publish',
      resource: topic,
    });
  }

  const alarm = (description: string, metric: Record<string, unknown>) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: description,
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
      ...metric,
    },
  });
  for (const fn of Object.keys(FUNCTIONS).sort()) {
    out[`${pascal(fn)}ErrorsAlarm`] = alarm(`kura ${fn}: the function failed (Errors >= 1 in 5 minutes)`, {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: lambdaLogicalId(fn) } }],
      Statistic: 'Sum',
    });
  }
  for (const sm of deployedStateMachines()) {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      out[`${pascal(sm)}${metric}Alarm`] = alarm(`kura ${sm} state machine: ${metric} >= 1 in 5 minutes`, {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineLogicalId(sm) } }],
        Statistic: 'Sum',
      });
    }
  }
  out.DeadLetterQueueAlarm = alarm(
    'kura: a run could not be started or failed asynchronously (dead letters waiting)',
    {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
    },
  );
  return out;
}

/**
 * Values the IAM files in deploy/iam/ take from the policy (through
 * deploy/from-policy.cjs): the log landing, the content sources, the isolated
 * role. Names that match nothing stand in for a section the policy leaves out.
 */
export function iamValues(policy: Policy) {
  const s3 = (url: string) => {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(url);
    return { bucket: m?.[1] ?? 'kura-none', prefix: m?.[2] ?? '' };
  };
  const landing = s3(policy.logs?.landing ?? 's3://kura-no-log-landing/');
  const sources = (policy.content ?? []).map((c) => s3(c.source));
  return {
    landingBucketArn: `arn:aws:s3:::${landing.bucket}`,
    landingObjectsArn: `arn:aws:s3:::${landing.bucket}/${landing.prefix}*`,
    landingPrefixPattern: `${landing.prefix}*`,
    // content-backup lists and reads only the sources the policy names.
    contentSourceBuckets: sources.length
      ? [...new Set(sources.map((x) => `arn:aws:s3:::${x.bucket}`))]
      : ['arn:aws:s3:::kura-no-content-source'],
    contentSourcePrefixes: sources.length
      ? [...new Set(sources.map((x) => `${x.prefix}*`))]
      : ['kura-no-content-source/*'],
    contentSourceObjects: sources.length
      ? [...new Set(sources.map((x) => `arn:aws:s3:::${x.bucket}/${x.prefix}*`))]
      : ['arn:aws:s3:::kura-no-content-source/*'],
    reportsPrefix: policy.vault.reportsPrefix,
    objectLockMode: policy.vault.objectLock.mode,
    // AssumeRole exactly the configured isolated role, nothing else.
    isolatedRoleArn:
      policy.isolatedAccount?.roleArn ?? 'arn:aws:iam::000000000000:role/kura-no-isolated-account',
    // AssumeRole exactly the source accounts' kura-source roles (none in single-account mode).
    sourceRoleArns: policy.sources?.length
      ? policy.sources.map((s) => s.roleArn)
      : ['arn:aws:iam::000000000000:role/kura-no-source-account'],
  };
}

export function renderFromPolicy(policy: Policy) {
  return {
    region: policy.region,
    policyJson: JSON.stringify(policy),
    iam: iamValues(policy),
    resources: {
      Parameters: stackParameters(),
      Resources: { ...scheduleResources(policy), ...vaultResources(policy), ...failureResources(policy) },
    },
  };
}

// Invoked by deploy/from-policy.cjs as a child process: prints JSON.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(JSON.stringify(renderFromPolicy(loadPolicy())));
}
