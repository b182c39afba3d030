// Local runtime: the IAM front layer for `kura demo`: the template packaged
// once (.kura/sls-demo), every request of the demo checked against it and
// recorded (.kura/iam-demo/requests.jsonl), functions run as their roles.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicy } from '../../shared/policy/load.ts';
import { startIamFrontLayer } from './front.ts';
import { packageTemplate, ROOT } from './packaged.ts';

export async function startDemoIamLayer(target: string) {
  const packaged = await packageTemplate(join(ROOT, '.kura', 'sls-demo'));
  const runDir = join(ROOT, '.kura', 'iam-demo');
  rmSync(runDir, { recursive: true, force: true });
  const front = await startIamFrontLayer({ target, runDir, packaged, packagedFor: loadPolicy() });
  process.env.KURA_IAM_CONTROL = front.endpoint;
  return {
    endpoint: front.endpoint,
    journal: join(runDir, 'requests.jsonl'),
    summary: () => ({
      requests: front.records.length,
      // A refusal a step declared (the ransomware day's attacker) is the point of that step, not a defect.
      refused: front.records.filter((r) => r.denied && !r.expected).map((r) => r.message ?? r.operation),
      expected: front.records.filter((r) => r.denied && r.expected).length,
    }),
    close: front.close,
  };
}
