// deploy/source-account.yml: linted, and its kura-source role evaluated by the
// same evaluator as every request of the suite, as each source account of a
// two-source policy deploys it (the parameters `kura policy source-stack`
// prints). What it may do is allowed; what it must never do is refused, and
// each check fails on a deliberately widened role or trust.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { sourceStackParameters } from '../../deploy/source-stack.ts';
import type { CfnTemplate } from '../../local/iam/cfn.ts';
import { BACKUP_ACCOUNT, buildDeployment, type Deployment, keyArn } from '../../local/iam/deployment.ts';
import { evaluate } from '../../local/iam/evaluate.ts';
import { checkMustNever, MUST_NEVER, SOURCE_MUST_NEVER } from '../../local/iam/must-never.ts';
import { rolePrincipal } from '../../local/iam/principal-of.ts';
import { parsePolicy } from '../../shared/policy/parse.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { packagedTemplate, ROOT } from '../support/packaged-template.ts';
import { SOURCE_A, SOURCE_B, sourceRoleArn, withTwoSources } from '../support/source-accounts.ts';
import { requireTool } from '../support/tools.ts';

const exec = promisify(execFile);

const TEMPLATE = join(ROOT, 'deploy/source-account.yml');
const base = loadPolicy();
const policy = parsePolicy(withTwoSources(structuredClone(base)), 'two-sources');
let packaged: CfnTemplate;
const build = (): Deployment => buildDeployment(packaged, base, policy);

beforeAll(async () => {
  packaged = (await packagedTemplate()) as CfnTemplate;
}, 600_000);

async function decide(d: Deployment, account: string, action: string, resource: string, context = {}) {
  const role = d.roles.get(sourceRoleArn(account));
  if (!role) throw new Error(`no source role in ${account}`);
  const open = {
    name: 'open',
    policy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: role.arn }, Action: '*', Resource: '*' }],
    },
  };
  const crossAccount = resource.includes(`:${BACKUP_ACCOUNT}:`) || resource.includes(policy.vault.bucket);
  return evaluate(
    rolePrincipal(role, 'check'),
    { action, resource, resourceAccount: crossAccount ? BACKUP_ACCOUNT : account, context },
    crossAccount ? open : undefined,
  );
}

describe('deploy/source-account.yml', () => {
  it('passes cfn-lint with no findings', async () => {
    const bin = requireTool('cfn-lint');
    const out = await exec(bin, ['--format', 'parseable', TEMPLATE]).then(
      (r) => r.stdout,
      (err: { stdout?: string; message: string }) => err.stdout || err.message,
    );
    expect(out.split('\n').filter(Boolean)).toEqual([]);
  });

  it('is deployed in each source account with the parameters the policy gives it', () => {
    const d = build();
    expect([...d.sourceTemplates.keys()]).toEqual([SOURCE_A, SOURCE_B]);
    const b = sourceStackParameters(policy, SOURCE_B, BACKUP_ACCOUNT);
    expect(b.VaultObjectArns?.split(',')).toEqual([
      `arn:aws:s3:::${policy.vault.bucket}/content/app2-images/objects/*`,
      `arn:aws:s3:::${policy.vault.bucket}/logs/*`,
    ]);
    expect(sourceStackParameters(policy, SOURCE_A, BACKUP_ACCOUNT).LandingBucketArn).toBeUndefined();
    // Trusted: exactly the roles of the functions that act in source accounts, as deployed
    // (validation-step's role is kura-prod-validation: the ARN is the role's, not the function's).
    expect(b.TrustedRoleArns?.split(',').sort()).toEqual(
      ['rds-snapshot', 'ami-backup', 'content-backup', 'log-archive', 'validation-step', 'restore']
        .map((fn) => d.functionRoles[fn])
        .sort(),
    );
    expect(() => sourceStackParameters(policy, '555555555555', BACKUP_ACCOUNT)).toThrow(
      /555555555555 is not a source of this policy; expected one of 333333333333, 444444444444/,
    );
  });

  it('lets the role do its job: snapshot and image tagged resources, share and hand over managed ones, read its sources, add to its own vault prefixes', async () => {
    const d = build();
    const r = policy.region;
    const a = SOURCE_B;
    const tagged = { 'aws:ResourceTag/kura:backup': policy.selector.tagValue };
    const managed = { 'aws:ResourceTag/kura:managed': 'true' };
    const allowed = [
      ['rds:CreateDBSnapshot', `arn:aws:rds:${r}:${a}:db:shop-db`, tagged],
      ['rds:CreateDBSnapshot', `arn:aws:rds:${r}:${a}:snapshot:kura-shop-db-202611210400`, {}],
      ['rds:ModifyDBSnapshotAttribute', `arn:aws:rds:${r}:${a}:snapshot:kura-shop-db-202611210400`, managed],
      ['rds:DeleteDBSnapshot', `arn:aws:rds:us-west-2:${a}:snapshot:kura-shop-db-202611210400`, managed],
      ['ec2:CreateImage', `arn:aws:ec2:${r}:${a}:instance/i-0shop`, tagged],
      ['ec2:ModifyImageAttribute', `arn:aws:ec2:${r}::image/ami-0kura`, managed],
      ['ec2:ModifySnapshotAttribute', `arn:aws:ec2:${r}::snapshot/snap-0kura`, managed],
      ['s3:GetObject', 'arn:aws:s3:::app2-uploads/images/cat.png', {}],
      ['s3:GetObject', 'arn:aws:s3:::kura-log-landing-123456789012/incoming/web-1/access/a.log', {}],
      ['s3:PutObject', `arn:aws:s3:::${policy.vault.bucket}/content/app2-images/objects/cat.png`, {}],
      ['s3:PutObject', `arn:aws:s3:::${policy.vault.bucket}/logs/access/web-1/a.log`, {}],
    ] as const;
    for (const [action, resource, context] of allowed) {
      const decision = await decide(d, a, action, resource, context);
      expect({ action, resource, allowed: decision.allowed, why: decision.reason }).toMatchObject({
        allowed: true,
      });
    }
    // A reads A's content source only, and owns no log landing.
    expect((await decide(d, SOURCE_A, 's3:GetObject', 'arn:aws:s3:::app1-uploads/images/x')).allowed).toBe(
      true,
    );
    expect((await decide(d, SOURCE_A, 's3:GetObject', 'arn:aws:s3:::app2-uploads/images/x')).allowed).toBe(
      false,
    );
    expect(
      (
        await decide(
          d,
          SOURCE_A,
          's3:PutObject',
          `arn:aws:s3:::${policy.vault.bucket}/logs/access/web-1/a.log`,
        )
      ).allowed,
    ).toBe(false);
    expect(
      (
        await decide(d, a, 'kms:GenerateDataKey', keyArn(BACKUP_ACCOUNT, r, 'VaultKey'), {
          'kms:ViaService': `s3.${r}.amazonaws.com`,
        })
      ).allowed,
    ).toBe(true);
  });

  for (const check of SOURCE_MUST_NEVER) {
    it(`must never: ${check.title}`, async () => {
      const [result] = await checkMustNever(build(), check.id);
      expect(result?.probes).toBeGreaterThan(0);
      expect(result?.violations).toEqual([]);
      expect(result?.roles).toEqual(
        check.id === 'source-role-bounded' || check.id === 'vault-admits-source-roles-only-to-add'
          ? [`kura-source (${SOURCE_A})`, `kura-source (${SOURCE_B})`]
          : expect.arrayContaining([
              'RdsSnapshotRole',
              'AmiBackupRole',
              'ContentBackupRole',
              'ValidationRole',
              'RestoreRole',
              'kura-admin',
            ]),
      );
      // …and fails on a role given more than it should, or a trust opened to the account.
      const wide = build();
      const role = wide.roles.get(sourceRoleArn(SOURCE_B));
      if (!role) throw new Error('no source role');
      if (check.id === 'vault-admits-source-roles-only-to-add')
        // The vault's own statements for the source roles dropped, one Allow of everything in their place.
        wide.bucketPolicies.set(policy.vault.bucket, {
          Version: '2012-10-17',
          Statement: [
            ...[wide.bucketPolicies.get(policy.vault.bucket)?.Statement ?? []]
              .flat()
              .filter((st) => !/^Source/.test(String((st as { Sid?: string }).Sid))),
            { Effect: 'Allow', Principal: { AWS: role.arn }, Action: 's3:*', Resource: '*' },
          ],
        });
      else if (check.id === 'source-role-bounded')
        role.policies.push({
          name: 'widened',
          policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] },
        });
      else
        role.trust = {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${BACKUP_ACCOUNT}:root` },
              Action: 'sts:AssumeRole',
            },
          ],
        };
      const [broken] = await checkMustNever(wide, check.id);
      expect(broken?.holds).toBe(false);
    });
  }

  it('keeps every other must-never check with two source accounts', async () => {
    const d = buildDeployment(packaged, base, policy, {
      subnets: ['subnet-0isolateda', 'subnet-0isolatedb'],
      securityGroups: ['sg-0noingress', 'sg-0db'],
    });
    const results = await checkMustNever(d);
    expect(results.filter((x) => !x.holds).map((x) => [x.id, x.violations.slice(0, 3)])).toEqual([]);
    expect(results.map((x) => x.id)).toEqual([...MUST_NEVER, ...SOURCE_MUST_NEVER].map((c) => c.id));
  });
});
