// Deployment: the CloudFormation pieces generated from the policy (schedules,
// vault, alerts). serverless.yml reads them through deploy/from-policy.cjs,
// so nothing the policy decides is hand-copied into the template.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FUNCTIONS } from '../functions/registry.ts';
import { lambdaLogicalId, stateMachineLogicalId } from './logical-ids.ts';
import { cloudFormationRules } from '../shared/domain/lifecycle/index.ts';
import { schedulesFromPolicy } from '../shared/domain/schedules.ts';
import { loadPolicy } from '../shared/policy/load.ts';
import type { Policy } from '../shared/policy/schema.ts';

type Resources = Record<string, { Type: string; [k: string]: unknown }>;

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
    if (isFn ? !FUNCTIONS[s.target] : !stateMachineExists(s.target)) continue;
    const arn = isFn
      ? { 'Fn::GetAtt': [lambdaLogicalId(s.target), 'Arn'] }
      : { Ref: stateMachineLogicalId(s.target) };
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
          }),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
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
    },
  };
  return out;
}

/** The vault: versioned, KMS-encrypted, private, TLS-only, Object Lock, lifecycle from the policy. */
export function vaultResources(policy: Policy): Resources {
  return {
    VaultKey: {
      Type: 'AWS::KMS::Key',
      Properties: {
        Description: 'kura vault key (customer managed: cross-account restores need a key policy and grants)',
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AccountAdministers',
              Effect: 'Allow',
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
              Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
              Action: 'kms:*',
              Resource: '*',
            },
          ],
        },
        Tags: [{ Key: 'kura:managed', Value: 'true' }],
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
        Tags: [{ Key: 'kura:managed', Value: 'true' }],
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
          ],
        },
      },
    },
  };
}

export function alertResources(policy: Policy): Resources {
  return {
    AlertTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: policy.notifications?.topicName ?? 'kura-alerts',
        KmsMasterKeyId: 'alias/aws/sns',
        Tags: [{ Key: 'kura:managed', Value: 'true' }],
      },
    },
  };
}

export function renderFromPolicy(policy: Policy) {
  return {
    region: policy.region,
    policyJson: JSON.stringify(policy),
    resources: {
      Resources: { ...scheduleResources(policy), ...vaultResources(policy), ...alertResources(policy) },
    },
  };
}

// Invoked by deploy/from-policy.cjs as a child process: prints JSON.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(JSON.stringify(renderFromPolicy(loadPolicy())));
}
