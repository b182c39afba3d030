// Benchmark child (logs): runs one log-bundle over the vault the parent seeded,
// alone in its process so that its peak RSS is the bundler's. Prints JSON.
// Args: <endpoint> <policy.json>
import { readFileSync } from 'node:fs';
import { useEmulator } from '../../local/emulator.ts';
import { sealedLogStore } from '../../shared/aws/seals.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { type LogStorePort, S3LogStore } from '../../shared/aws/log-store.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { logBundle } from '../../shared/usecases/log-bundle.ts';

const [endpoint, policyFile] = process.argv.slice(2) as [string, string];
useEmulator(endpoint);
const policy = JSON.parse(readFileSync(policyFile, 'utf8')) as Policy;
const store = new S3LogStore(new Clients({ region: policy.region }));
const marks: Record<string, number> = {};
// Time the phases by wrapping the port: pack+upload, then the read-back verification.
const timed: LogStorePort = Object.assign(Object.create(store) as LogStorePort, {
  beginUpload: async (...a: Parameters<LogStorePort['beginUpload']>) => {
    marks.uploadStart = performance.now();
    return store.beginUpload(...a);
  },
  completeUpload: async (...a: Parameters<LogStorePort['completeUpload']>) => {
    const out = await store.completeUpload(...a);
    marks.uploadEnd = performance.now();
    return out;
  },
  putText: async (...a: Parameters<LogStorePort['putText']>) => {
    if (a[1].endsWith('.manifest.json')) marks.verifyEnd = performance.now();
    return store.putText(...a);
  },
});
const baselineRss = process.memoryUsage().rss; // after imports, before any work
const t0 = performance.now();
const result = await logBundle(new Date('2025-12-01T03:00:00+09:00'), policy, sealedLogStore(timed, policy.vault.bucket));
const total = (performance.now() - t0) / 1000;
const t = result.targets[0];
process.stdout.write(
  JSON.stringify({
    ok: result.ok,
    error: t?.error,
    members: t?.members,
    bytesIn: t?.bytesIn,
    bytesOut: t?.bytesOut,
    totalSeconds: total,
    packUploadSeconds: ((marks.uploadEnd ?? 0) - (marks.uploadStart ?? 0)) / 1000,
    verifySeconds: ((marks.verifyEnd ?? 0) - (marks.uploadEnd ?? 0)) / 1000,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    baselineRssMiB: baselineRss / 1024 / 1024,
    heapUsedMiB: process.memoryUsage().heapUsed / 1024 / 1024,
  }),
);
