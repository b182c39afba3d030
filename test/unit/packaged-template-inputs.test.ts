// The demo keeps its packaged template (.kura/sls-demo) between runs; it must
// package again once a file the template is made from has changed, or the demo
// would check its requests against the policies of an older checkout.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { templateInputsDigest } from '../../local/iam/packaged.ts';

function stackFiles(): { root: string; policy: string } {
  const root = mkdtempSync(join(tmpdir(), 'kura-inputs-'));
  for (const d of ['deploy/iam', 'statemachines', 'functions/restore', 'shared/policy'])
    mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'serverless.yml'), 'service: kura\n');
  writeFileSync(join(root, 'deploy/iam/restore.yml'), 'Resources: {}\n');
  writeFileSync(join(root, 'statemachines/restore.asl.yml'), 'StartAt: Plan\n');
  writeFileSync(join(root, 'functions/restore/handler.ts'), 'export {};\n');
  writeFileSync(join(root, 'shared/policy/schema.ts'), 'export {};\n');
  const policy = join(root, 'backup-policy.yml');
  writeFileSync(policy, 'vault: {}\n');
  return { root, policy };
}

describe('the packaged template is reused only while its inputs are unchanged', () => {
  it('gives the same digest for the same files', () => {
    const { root, policy } = stackFiles();
    expect(templateInputsDigest(root, policy)).toBe(templateInputsDigest(root, policy));
  });

  it.each([
    ['a role policy', 'deploy/iam/restore.yml', 'Resources: { RestoreRole: {} }\n'],
    ['a state machine', 'statemachines/restore.asl.yml', 'StartAt: Approval\n'],
    ['a new role file', 'deploy/iam/validation-report.yml', 'Resources: {}\n'],
    ['the code the rendering runs', 'shared/policy/schema.ts', 'export const x = 1;\n'],
    ['the policy', 'backup-policy.yml', 'vault: { bucket: other }\n'],
  ])('changes when %s changes', (_what, file, text) => {
    const { root, policy } = stackFiles();
    const before = templateInputsDigest(root, policy);
    writeFileSync(join(root, file), text);
    expect(templateInputsDigest(root, policy)).not.toBe(before);
  });
});
