// Integration (logs, lifecycle): the vault lifecycle rules in the packaged
// template follow the policy (days, storage classes, size filter), both from
// deploy/template.ts renderFromPolicy and from a real `sls package` with a
// changed policy; and the lifecycle report compares them with a real bucket.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFromPolicy } from '../../deploy/template.ts';
import { readBucketLifecycle } from '../../shared/aws/bucket-lifecycle.ts';
import { lifecycleReport } from '../../shared/domain/lifecycle/report.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { testPolicy } from '../support/emulator.ts';
import { logsWorld } from '../support/logs.ts';

type CfnRule = {
  Id: string;
  Prefix?: string;
  ObjectSizeGreaterThan?: number | string;
  ExpirationInDays?: number;
  Transitions?: { StorageClass: string; TransitionInDays: number }[];
};

function vaultRules(resources: Record<string, unknown>): CfnRule[] {
  const bucket = resources.VaultBucket as { Properties: { LifecycleConfiguration: { Rules: CfnRule[] } } };
  const lc = bucket.Properties.LifecycleConfiguration;
  return lc.Rules;
}

/** What the policy says each class's rules must be, computed here independently of the generator. */
function expectFromPolicy(rules: CfnRule[], policy: Policy): void {
  const logs = policy.logs;
  if (!logs) throw new Error('no logs section');
  const t = logs.transitions;
  for (const [name, cls] of Object.entries(logs.classes)) {
    const loose = rules.find((r) => r.Id === `logs-${name}-loose`);
    expect(loose, name).toMatchObject({ Prefix: `logs/${name}/`, ExpirationInDays: cls.retainDays });
    expect(loose?.Transitions, `${name}: loose files are not transitioned`).toBeUndefined();
    const expire = cls.retainDays - (logs.keepMonths * 28 + 1);
    expect(rules.find((r) => r.Id === `logs-${name}-bundles-expire`)).toMatchObject({
      Prefix: `log-bundles/${name}/`,
      ExpirationInDays: expire,
    });
    const tr = rules.find((r) => r.Id === `logs-${name}-bundles-transition`);
    expect(Number(tr?.ObjectSizeGreaterThan)).toBe(t.minObjectSizeBytes);
    expect(
      tr?.ExpirationInDays,
      'the size-filtered rule never expires: small objects must expire too',
    ).toBeUndefined();
    const wanted = [
      { StorageClass: 'STANDARD_IA', TransitionInDays: t.infrequentAccessDays },
      { StorageClass: 'GLACIER_IR', TransitionInDays: t.glacierDays },
      { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: t.deepArchiveDays },
    ].filter((x) => x.TransitionInDays < expire);
    expect(tr?.Transitions, name).toEqual(wanted);
  }
}

const changed = (p: Policy) => {
  if (!p.logs) return;
  p.logs.classes = { access: { retainDays: 3650 }, audit: { retainDays: 400 } };
  p.logs.transitions = {
    minObjectSizeBytes: 262_144,
    infrequentAccessDays: 45,
    glacierDays: 120,
    deepArchiveDays: 365,
  };
};

describe('vault lifecycle rules for logs', () => {
  it('renders rules that follow the policy, per class, when the policy changes', () => {
    // Prepare
    const reference = testPolicy();
    const other = testPolicy(changed);

    // Act
    const a = vaultRules(renderFromPolicy(reference).resources.Resources);
    const b = vaultRules(renderFromPolicy(other).resources.Resources);

    // Assess
    expectFromPolicy(a, reference);
    expectFromPolicy(b, other);
    expect(
      b.find((r) => r.Id === 'logs-audit-bundles-transition')?.Transitions?.map((x) => x.StorageClass),
    ).toEqual(['STANDARD_IA', 'GLACIER_IR']); // 365 >= 343 days: no Deep Archive
    expect(b.some((r) => r.Id.startsWith('logs-system-'))).toBe(false);
  });

  it('packages a template whose vault rules follow a changed policy (sls package)', () => {
    // Prepare: a copy of the project and a changed policy file.
    const root = resolve(import.meta.dirname, '../..');
    const dir = mkdtempSync(join(tmpdir(), 'kura-sls-'));
    cpSync(root, dir, {
      recursive: true,
      filter: (src) =>
        !/\/(node_modules|\.serverless|\.esbuild|\.git|\.kura|bench\/out)(\/|$)/.test(src.slice(root.length)),
    });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const policy = testPolicy(changed);
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
    const env = { ...process.env, KURA_POLICY: join(dir, 'policy.json') } as NodeJS.ProcessEnv;
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_ENDPOINT_URL;

    // Act
    // A whole package build (every function bundled): ~30 s idle, over 110 s on a loaded machine.
    execFileSync('npx', ['sls', 'package'], { cwd: dir, env, stdio: 'pipe', timeout: 290_000 });

    // Assess
    const template = JSON.parse(
      readFileSync(join(dir, '.serverless/cloudformation-template-update-stack.json'), 'utf8'),
    );
    expectFromPolicy(vaultRules(template.Resources), policy);
    expect(template.Resources.LogDasharchiveLambdaFunction).toBeDefined();
    expect(template.Resources.LogBundleSchedule.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 3 1 * ? *)',
      ScheduleExpressionTimezone: 'Asia/Tokyo',
    });
  }, 300_000);

  it('reports the rules on a real vault as matching the policy, size filters included', async () => {
    // Prepare: ensureVault applies the policy's rules to the bucket.
    const w = await logsWorld();

    // Act
    const report = lifecycleReport(w.policy, new Date(), await readBucketLifecycle(w.clients, w.vault));

    // Assess
    expect(report.vault).toBe('present');
    const rows = report.classes.filter((c) => c.name.startsWith('logs: ')).flatMap((c) => c.rules);
    expect(rows).toHaveLength(9);
    // The emulator keeps ObjectSizeGreaterThan as S3 does (local/moto/kura_moto/s3.py).
    for (const r of rows) expect(r.onBucket, `${r.id}: ${r.differences.join('; ')}`).toBe('match');
    expect(rows.filter((r) => r.id.endsWith('-transition'))).toHaveLength(3);
  });
});
