// The detective controls (deploy/detective-controls.yml, also in the kura
// stack): each pattern is put to EventBridge's own matcher (TestEventPattern,
// over HTTP) with CloudTrail events as AWS delivers them: the calls that
// weaken backups raise an alert, everyday calls do not.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { beforeAll, describe, expect, it } from 'vitest';
import { DETECTIVE_CONTROLS_TEMPLATE, detectiveRules, renderFromPolicy } from '../../deploy/template.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { emulatorClients } from '../support/emulator.ts';
import { requireTool } from '../support/tools.ts';

const exec = promisify(execFile);
const rules = detectiveRules();
let events: EventBridgeClient;

beforeAll(() => {
  events = emulatorClients().get(EventBridgeClient);
});

/** A CloudTrail management event as EventBridge delivers it ("AWS API Call via CloudTrail"). */
function cloudTrail(service: string, eventName: string, requestParameters: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '6f1b2c3d-0000-4000-8000-000000000001',
    'detail-type': 'AWS API Call via CloudTrail',
    source: `aws.${service}`,
    account: '333333333333',
    time: '2026-11-01T03:00:00Z',
    region: 'ap-northeast-1',
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::333333333333:assumed-role/Admin/mallory' },
      eventTime: '2026-11-01T03:00:00Z',
      eventSource: `${service}.amazonaws.com`,
      eventName,
      awsRegion: 'ap-northeast-1',
      requestParameters,
      responseElements: null,
      eventType: 'AwsApiCall',
      managementEvent: true,
    },
  };
}

/** The rules whose pattern EventBridge matches the event with. */
async function matching(event: object): Promise<string[]> {
  const out: string[] = [];
  for (const [id, rule] of Object.entries(rules)) {
    const r = await events.send(
      new TestEventPatternCommand({
        EventPattern: JSON.stringify((rule.Properties as { EventPattern: object }).EventPattern),
        Event: JSON.stringify(event),
      }),
    );
    if (r.Result) out.push(id);
  }
  return out;
}

const ALERTS: [string, ReturnType<typeof cloudTrail>, string][] = [
  [
    'PutBucketPolicy',
    cloudTrail('s3', 'PutBucketPolicy', { bucketName: 'kura-vault' }),
    'DetectVaultConfigurationChange',
  ],
  [
    'PutBucketLifecycle (PutBucketLifecycleConfiguration as CloudTrail names it)',
    cloudTrail('s3', 'PutBucketLifecycle', { bucketName: 'kura-vault' }),
    'DetectVaultConfigurationChange',
  ],
  [
    'PutObjectLockConfiguration',
    cloudTrail('s3', 'PutObjectLockConfiguration', { bucketName: 'kura-vault' }),
    'DetectVaultConfigurationChange',
  ],
  [
    'ScheduleKeyDeletion',
    cloudTrail('kms', 'ScheduleKeyDeletion', { keyId: 'k', pendingWindowInDays: 7 }),
    'DetectKeyDisableOrDeletion',
  ],
  ['DisableKey', cloudTrail('kms', 'DisableKey', { keyId: 'k' }), 'DetectKeyDisableOrDeletion'],
  [
    'DeleteDBSnapshot',
    cloudTrail('rds', 'DeleteDBSnapshot', { dBSnapshotIdentifier: 'kura-db-1' }),
    'DetectRecoveryPointDeletion',
  ],
  [
    'DeregisterImage',
    cloudTrail('ec2', 'DeregisterImage', { imageId: 'ami-1' }),
    'DetectRecoveryPointDeletion',
  ],
  [
    'ModifyDBInstance with BackupRetentionPeriod 0',
    cloudTrail('rds', 'ModifyDBInstance', {
      dBInstanceIdentifier: 'db',
      backupRetentionPeriod: 0,
      applyImmediately: true,
    }),
    'DetectAutomatedBackupsDisabled',
  ],
];

const QUIET: [string, object][] = [
  [
    'ModifyDBInstance keeping automated backups (7 days)',
    cloudTrail('rds', 'ModifyDBInstance', { dBInstanceIdentifier: 'db', backupRetentionPeriod: 7 }),
  ],
  [
    'ModifyDBInstance of something else (no retention in the request)',
    cloudTrail('rds', 'ModifyDBInstance', { dBInstanceIdentifier: 'db', dBInstanceClass: 'db.t3.small' }),
  ],
  ['CreateDBSnapshot', cloudTrail('rds', 'CreateDBSnapshot', { dBSnapshotIdentifier: 'kura-db-2' })],
  ['GetBucketPolicy (a read)', cloudTrail('s3', 'GetBucketPolicy', { bucketName: 'kura-vault' })],
  ['PutObject (a data event)', cloudTrail('s3', 'PutObject', { bucketName: 'kura-vault', key: 'x' })],
  ['EnableKey', cloudTrail('kms', 'EnableKey', { keyId: 'k' })],
  ['CreateImage', cloudTrail('ec2', 'CreateImage', { instanceId: 'i-1' })],
  [
    'DeleteDBSnapshot named by another service (not CloudTrail)',
    { ...cloudTrail('rds', 'DeleteDBSnapshot'), 'detail-type': 'RDS DB Snapshot Event' },
  ],
];

describe('the detective controls', () => {
  it.each(ALERTS)('alert on %s', async (_name, event, rule) => {
    expect(await matching(event)).toEqual([rule]);
  });

  it.each(QUIET)('stay quiet on %s', async (_name, event) => {
    expect(await matching(event)).toEqual([]);
  });

  it('send every alert to the alert topic, in the kura stack as in the standalone template', () => {
    const stack = renderFromPolicy(loadPolicy()).resources.Resources;
    expect(Object.keys(rules).length).toBe(4);
    for (const [id, rule] of Object.entries(rules)) {
      expect(stack[id], id).toEqual(rule);
      expect((rule.Properties as { Targets: unknown[] }).Targets).toEqual([
        { Id: 'alert', Arn: { Ref: 'AlertTopic' } },
      ]);
    }
    const publish = (
      stack.AlertTopicPolicy?.Properties as {
        PolicyDocument: { Statement: { Principal: unknown; Action: string }[] };
      }
    ).PolicyDocument.Statement;
    expect(publish).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish' }),
    );
  });

  it('standalone template passes cfn-lint with no findings', async () => {
    const bin = requireTool('cfn-lint');
    const out = await exec(bin, ['--format', 'parseable', DETECTIVE_CONTROLS_TEMPLATE]).then(
      (r) => r.stdout,
      (err: { stdout?: string; message: string }) => err.stdout || err.message,
    );
    expect(out.split('\n').filter(Boolean)).toEqual([]);
  });
});
