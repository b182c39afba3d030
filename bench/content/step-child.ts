// Benchmark child (content class): one step of a content-backup run (plan, one
// shard, or finish), alone in its process as a Lambda invocation would be, so
// that its peak RSS is that step's. Prints JSON.
// Args: <endpoint> <policy.json> <time ISO> <step> [<shard>] [<shardKeys>]
import { readFileSync } from 'node:fs';
import { useEmulator } from '../../local/emulator.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { contentBackupPorts } from '../../shared/aws/content-generations.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import type { ContentRunResult } from '../../shared/usecases/content-backup.ts';
import {
  finishContentBackup,
  planContentBackup,
  runContentShard,
} from '../../shared/usecases/content-backup.ts';

const [endpoint, policyFile, timeIso, step, shard, shardKeys] = process.argv.slice(2) as string[];
useEmulator(endpoint as string);
const policy = JSON.parse(readFileSync(policyFile as string, 'utf8')) as Policy;
const port = new S3ContentAdapter(new Clients({ region: policy.region }));
const time = new Date(timeIso as string);
const opts = { shardKeys: shardKeys ? Number(shardKeys) : undefined };
const baselineRss = process.memoryUsage().rss; // after imports, before any work
const t0 = performance.now();
let result: ContentRunResult & { items?: unknown[] };
if (step === 'plan') result = await planContentBackup(time, policy, contentBackupPorts(port, policy), opts);
else if (step === 'finish') result = await finishContentBackup(time, policy, contentBackupPorts(port, policy), opts);
else {
  const source = policy.content[0]?.name as string;
  result = await runContentShard(time, policy, contentBackupPorts(port, policy), { source, shard: Number(shard) }, opts);
}
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(
  JSON.stringify({
    ok: result.ok,
    complete: result.complete,
    items: result.items,
    target: result.targets[0],
    seconds,
    baselineRssMiB: baselineRss / 2 ** 20,
    // resourceUsage().maxRSS is in KiB: the process's peak, imports included.
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  }),
);
