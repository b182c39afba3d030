// Benchmark child (logs): one invocation of the log-bundle Map child for one
// group (`bundleLogGroup`), with a time budget, alone in its process as on
// Lambda so that its peak RSS is that invocation's. Prints JSON.
// Args: <endpoint> <policy.json> <budgetMs> <segmentMiB>
import { readFileSync } from 'node:fs';
import { useEmulator } from '../../local/emulator.ts';
import { sealedLogStore } from '../../shared/aws/seals.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { bundleLogGroup } from '../../shared/usecases/log-bundle.ts';

const [endpoint, policyFile, budgetMs, segmentMiB] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
useEmulator(endpoint);
const policy = JSON.parse(readFileSync(policyFile, 'utf8')) as Policy;
const store = new S3LogStore(new Clients({ region: policy.region }));
const t0 = performance.now();
const r = await bundleLogGroup(
  new Date('2025-12-01T03:00:00+09:00'),
  policy,
  sealedLogStore(store, policy.vault.bucket),
  { logClass: 'access', host: 'web-1', month: '2025-09' },
  { budgetMs: Number(budgetMs), segmentBytes: Number(segmentMiB) * 1024 * 1024 },
);
const t = r.targets[0];
process.stdout.write(
  JSON.stringify({
    ok: r.ok,
    complete: r.complete,
    error: t?.error,
    actions: t?.actions,
    members: t?.members,
    bytesIn: t?.bytesIn,
    bytesOut: t?.bytesOut,
    seconds: (performance.now() - t0) / 1000,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  }),
);
