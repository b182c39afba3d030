// The deployable artefact: `sls package` with no credentials and no network,
// cfn-lint on the template, and the policy's decisions visible in it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { cloudFormationRules } from '../../shared/domain/lifecycle/index.ts';
import { schedulesFromPolicy } from '../../shared/domain/schedules.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { packagedTemplate, TEMPLATE, type Template } from '../support/packaged-template.ts';

const exec = promisify(execFile);
let template: Template;
const policy = loadPolicy();

beforeAll(async () => {
  template = await packagedTemplate();
}, 600_000);

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

describe('the packaged CloudFormation template', () => {
  it('passes cfn-lint without errors', async () => {
    const out = await exec('cfn-lint', ['--format', 'parseable', TEMPLATE]).then(
      () => ({ code: 0, stdout: '' }),
      (err: { code: number; stdout: string }) => err,
    );
    // cfn-lint exit code bits: 2 = errors, 4 = warnings, 8 = informational.
    const errors = out.stdout.split('\n').filter((l) => /:E\d{4}:/.test(l));
    expect(errors).toEqual([]);
    expect(out.code & 2).toBe(0);
  });

  it('runs every function on nodejs22.x, arm64, with the policy in its environment', () => {
    const fns = ofType('AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThan(0);
    for (const [, fn] of fns) {
      expect(fn.Properties?.Runtime).toBe('nodejs22.x');
      expect(fn.Properties?.Architectures).toEqual(['arm64']);
      expect(JSON.parse(fn.Properties?.Environment.Variables.KURA_POLICY_JSON)).toEqual(policy);
    }
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

  it('declares the vault versioned, locked, KMS-encrypted, private and TLS-only, with the policy lifecycle', () => {
    const bucket = template.Resources.VaultBucket?.Properties as Record<string, any>;
    expect(bucket.BucketName).toBe(policy.vault.bucket);
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.ObjectLockConfiguration.Rule.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 7 });
    expect(
      bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
    ).toBe('aws:kms');
    expect(Object.values(bucket.PublicAccessBlockConfiguration)).toEqual([true, true, true, true]);
    expect(bucket.LifecycleConfiguration.Rules).toEqual(cloudFormationRules(policy));
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
