// What no kura role may ever do, evaluated against the packaged template and
// deploy/isolated-account.yml with the same evaluator that checks every
// request of the suite (local/iam/must-never.ts). One test per check; each
// also proves it can fail, by evaluating a deliberately widened policy.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../local/iam/cfn.ts';
import { buildDeployment, type Deployment } from '../../local/iam/deployment.ts';
import { checkMustNever, MUST_NEVER } from '../../local/iam/must-never.ts';
import { RESTORE_ITEM_GRANTS, RESTORE_ROLES } from '../../local/iam/restore-item-grants.ts';
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

type Stmt = Record<string, unknown>;

/** Adds a statement to a role's identity policies (the isolated account's role when `isolated`). */
function grant(d: Deployment, logicalId: string, statement: Stmt, isolated = false): void {
  const role = [...d.roles.values()].find(
    (r) => r.logicalId === logicalId && (r.source === 'isolated-template') === isolated,
  );
  if (!role) throw new Error(`no role ${logicalId}`);
  role.policies.push({ name: 'widened', policy: { Version: '2012-10-17', Statement: [statement] } });
}

/** For each check, a policy mistake it must catch. */
const WIDENINGS: Record<string, (d: Deployment) => void> = {
  'no-delete-foreign-recovery-points': (d) =>
    grant(d, 'RdsSnapshotRole', { Effect: 'Allow', Action: 'rds:DeleteDBSnapshot', Resource: '*' }),
  'no-kura-tags-on-existing': (d) =>
    grant(d, 'AmiBackupRole', { Effect: 'Allow', Action: 'ec2:CreateTags', Resource: '*' }),
  'no-vault-configuration-changes': (d) =>
    grant(d, 'LogBundleRole', { Effect: 'Allow', Action: 's3:PutLifecycleConfiguration', Resource: '*' }),
  'only-break-glass-destroys-the-vault-key': (d) => {
    const key = d.keyPolicies.get('VaultKey');
    if (key)
      key.policy = {
        ...key.policy,
        Statement: key.policy.Statement.filter(
          (st: { Sid?: string }) => st.Sid !== 'OnlyBreakGlassDisablesOrDeletesTheKey',
        ),
      };
  },
  // Not ScheduleKeyDeletion or DisableKey: the key policy denies those to every role but break-glass.
  'no-vault-key-destruction': (d) =>
    grant(d, 'ContentBackupRole', { Effect: 'Allow', Action: 'kms:PutKeyPolicy', Resource: '*' }),
  'only-restore-and-validation-assume-the-isolated-role': (d) => {
    // The trust policy back to a name pattern, and a role allowed to assume anything.
    const iso = [...d.roles.values()].find((r) => r.source === 'isolated-template');
    if (iso)
      iso.trust = {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' },
        ],
      };
    grant(d, 'RdsSnapshotRole', { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' });
  },
  'isolated-role-stays-in-its-network': (d) =>
    grant(d, 'RestoreRole', { Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*' }, true),
  'content-backup-reads-only-named-sources': (d) =>
    grant(d, 'ContentBackupRole', { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::*/*' }),
  'share-only-managed': (d) =>
    grant(d, 'ValidationRole', { Effect: 'Allow', Action: 'rds:ModifyDBSnapshotAttribute', Resource: '*' }),
  // A machine that publishes alerts (validation, restore) has AlertPublishingPolicy, whose Deny
  // outside the alert topic outweighs any Allow: the mistake to catch is on a machine without it.
  'restore-item-grants-in-their-class-role': (d) =>
    grant(d, 'RestoreRole', { Effect: 'Allow', Action: 'rds:ModifyDBSnapshotAttribute', Resource: '*' }),
  'alerts-only-to-the-alert-topic': (d) =>
    grant(d, 'ContentBackupStateMachineRole', { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }),
};

describe("must never: the restore machine's class roles", () => {
  it("probes each class role wherever it probes the plan's role, and each may assume the isolated role", async () => {
    // Act
    const results = await checkMustNever(deployment);

    // Assess: every check that probes RestoreRole probes the four class roles too.
    const classRoles = ['RestoreDatabaseRole', 'RestoreImageRole', 'RestoreContentRole', 'RestoreLogsRole'];
    const withPlan = results.filter((r) => r.roles.includes('RestoreRole'));
    expect(withPlan.length).toBeGreaterThan(5);
    for (const r of withPlan) expect(r.roles, r.id).toEqual(expect.arrayContaining(classRoles));
    expect(results.find((r) => r.id === 'only-restore-and-validation-assume-the-isolated-role')?.holds).toBe(
      true,
    );
  });
});

describe("must never: the validation machine's roles", () => {
  it("probes the report's and each class's role wherever it probes the plan's, and each may assume the isolated role", async () => {
    // Act
    const results = await checkMustNever(deployment);

    // Assess: every check that probes ValidationRole probes the report's and the four class roles too.
    const roles = [
      'ValidationReportRole',
      'ValidationDatabaseRole',
      'ValidationImageRole',
      'ValidationContentRole',
      'ValidationLogsRole',
    ];
    const withPlan = results.filter((r) => r.roles.includes('ValidationRole'));
    expect(withPlan.length).toBeGreaterThan(5);
    for (const r of withPlan) expect(r.roles, r.id).toEqual(expect.arrayContaining(roles));
    expect(results.find((r) => r.id === 'only-restore-and-validation-assume-the-isolated-role')?.holds).toBe(
      true,
    );
  });
});

describe("must never: restore's role holds no class's item grant", () => {
  it('probes the plan role and the four class roles, each class role allowed its own grants', async () => {
    // Act
    const [result] = await checkMustNever(deployment, RESTORE_ITEM_GRANTS.id);

    // Assess
    expect(result?.roles).toEqual([...Object.values(RESTORE_ROLES)].sort());
    expect(result?.violations).toEqual([]);
  });

  for (const cls of ['RestoreDatabaseRole', 'RestoreImageRole', 'RestoreContentRole', 'RestoreLogsRole']) {
    it(`fails when RestoreRole regains ${cls}'s policy, as it held every class's before the split`, async () => {
      // Prepare: RestoreRole with the class role's own policy added (the leftover this check guards).
      const wide = buildDeployment(packaged, policy, policy);
      const from = [...wide.roles.values()].find((r) => r.logicalId === cls && r.source === 'template');
      const plan = [...wide.roles.values()].find(
        (r) => r.logicalId === 'RestoreRole' && r.source === 'template',
      );
      if (!from || !plan) throw new Error(`no ${cls} or RestoreRole in the packaged template`);
      plan.policies.push(...from.policies.filter((p) => p.name.startsWith(`${cls}/`)));

      // Act
      const [broken] = await checkMustNever(wide, RESTORE_ITEM_GRANTS.id);

      // Assess: refused to RestoreRole no more, and named so.
      expect(broken?.holds).toBe(false);
      expect(broken?.violations.every((v) => v.startsWith('RestoreRole may '))).toBe(true);
    });
  }
});

describe('must never: checked against the packaged policies', () => {
  for (const check of MUST_NEVER) {
    it(`${check.title}`, async () => {
      // Act
      const [result] = await checkMustNever(deployment, check.id);

      // Assess
      expect(result?.probes).toBeGreaterThan(0);
      expect(result?.violations).toEqual([]);
      // …and the check does fail when a role is given more than it should.
      const widen = WIDENINGS[check.id];
      expect(widen, `no widening for ${check.id}`).toBeDefined();
      const wide = buildDeployment(packaged, policy, policy, {
        subnets: ['subnet-0isolateda', 'subnet-0isolatedb'],
        securityGroups: ['sg-0noingress', 'sg-0db'],
      });
      widen?.(wide);
      const [broken] = await checkMustNever(wide, check.id);
      expect(broken?.holds).toBe(false);
    });
  }
});
