// Benchmark child (content restore): one slice of one shard of a whole-generation
// restore, alone in its process as a Map child's Lambda invocation would be, so
// that its peak RSS is that child's. Prints JSON.
// Args: <endpoint> <policy.json> <job JSON> <shard JSON>
import { readFileSync } from 'node:fs';
import { useEmulator } from '../../local/emulator.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import type { ContentJob, JobShard } from '../../shared/restore/content-shard-job.ts';
import { runJobShard } from '../../shared/restore/content-sharded.ts';

const [endpoint, policyFile, jobJson, shardJson] = process.argv.slice(2) as string[];
useEmulator(endpoint as string);
const policy = JSON.parse(readFileSync(policyFile as string, 'utf8')) as Policy;
const clients = new Clients({ region: policy.region });
const port = new S3ContentAdapter(clients);
const store = new S3RestoreStore(clients, policy.vault.bucket);
const baselineRss = process.memoryUsage().rss; // after imports, before any work
const t0 = performance.now();
const r = await runJobShard(
  { vault: vaultContent(port, policy), target: port, store },
  policy,
  JSON.parse(jobJson as string) as ContentJob,
  JSON.parse(shardJson as string) as JobShard,
);
process.stdout.write(
  JSON.stringify({
    complete: r.complete,
    progress: r.progress,
    seconds: (performance.now() - t0) / 1000,
    baselineRssMiB: baselineRss / 2 ** 20,
    // resourceUsage().maxRSS is in KiB: the process's peak, imports included.
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  }),
);
