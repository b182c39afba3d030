// What no kura role may ever do, evaluated against the packaged template and
// deploy/isolated-account.yml with the same evaluator that checks every
// request of the suite (local/iam/must-never.ts). One test per check; each
// also proves it can fail, by evaluating a deliberately widened policy.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../local/iam/cfn.ts';
import { buildDeployment, type Deployment } from '../../local/iam/deployment.ts';
import { checkMustNever, MUST_NEVER } from '../../local/iam/must-never.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { packagedTemplate } from '../support/packaged-template.ts';

let packaged: CfnTemplate;
let deployment: Deployment;
const policy = loadPolicy();

beforeAll(async () => {
  packaged = (await packagedTemplate()) as CfnTemplate;
  deployment = buildDeployment(packaged, policy, policy, {
    subnets: ['subnet-0isolateda', 'subnet-0isolatedb'],
    securityGroups: ['sg-0noingress', 'sg-0db'],
  });
}, 600_000);

/** The deployment with one statement added to a role: a grant too wide. */
function widened(roleLogicalId: string, statement: Record<string, unknown>): Deployment {
  const d = buildDeployment(packaged, policy, policy, {
    subnets: ['subnet-0isolateda', 'subnet-0isolatedb'],
    securityGroups: ['sg-0noingress', 'sg-0db'],
  });
  const role = [...d.roles.values()].find((r) => r.logicalId === roleLogicalId);
  if (!role) throw new Error(`no role ${roleLogicalId}`);
  role.policies.push({ name: 'widened', policy: { Version: '2012-10-17', Statement: [statement] } });
  return d;
}

const WIDENINGS: Record<string, [string, Record<string, unknown>]> = {
  'no-delete-foreign-recovery-points': [
    'RdsSnapshotRole',
    { Effect: 'Allow', Action: 'rds:DeleteDBSnapshot', Resource: '*' },
  ],
  'no-kura-tags-on-existing': ['AmiBackupRole', { Effect: 'Allow', Action: 'ec2:CreateTags', Resource: '*' }],
  'no-vault-configuration-changes': [
    'LogBundleRole',
    { Effect: 'Allow', Action: 's3:PutLifecycleConfiguration', Resource: '*' },
  ],
  'no-vault-key-destruction': [
    'ContentBackupRole',
    { Effect: 'Allow', Action: 'kms:ScheduleKeyDeletion', Resource: '*' },
  ],
  'only-restore-and-validation-assume-the-isolated-role': [
    'RdsSnapshotRole',
    { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' },
  ],
  'isolated-role-stays-in-its-network': [
    'RestoreRole',
    { Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*' },
  ],
  'content-backup-reads-only-named-sources': [
    'ContentBackupRole',
    { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::*/*' },
  ],
  'share-only-managed': [
    'ValidationRole',
    { Effect: 'Allow', Action: 'rds:ModifyDBSnapshotAttribute', Resource: '*' },
  ],
  'alerts-only-to-the-alert-topic': [
    'RestoreStateMachineRole',
    { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' },
  ],
};

describe('must never: checked against the packaged policies', () => {
  for (const check of MUST_NEVER) {
    it(`${check.title}`, async () => {
      // Act
      const [result] = await checkMustNever(deployment, check.id);

      // Assess
      expect(result?.probes).toBeGreaterThan(0);
      expect(result?.violations).toEqual([]);
      // …and the check does fail when a role is given more than it should.
      const [role, statement] = WIDENINGS[check.id] ?? [];
      expect(role, `no widening for ${check.id}`).toBeDefined();
      const wide = widened(role ?? '', statement ?? {});
      if (role === 'RestoreRole') {
        // The isolated account's kura-restore role (same logical id in the isolated template).
        const iso = [...wide.roles.values()].find(
          (r) => r.source === 'isolated-template' && r.logicalId === 'RestoreRole',
        );
        iso?.policies.push({
          name: 'widened',
          policy: { Version: '2012-10-17', Statement: [statement ?? {}] },
        });
      }
      const [broken] = await checkMustNever(wide, check.id);
      expect(broken?.holds).toBe(false);
    });
  }
});
