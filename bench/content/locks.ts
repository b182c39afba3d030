// Benchmark (content class, Object Lock): the lock lengthenings of unchanged
// objects, day after day, against moto on loopback. One seeded source backed up
// under two content sources of the same vault, one at the default stride (a
// term: generations + 1 days) and one at a longer stride
// (content[].lockStrideDays), 1 % of the objects changed a day, the run's clock
// moved a day forward each time (the run decides from the dates its manifests
// record; S3 compares with the wall clock, and a later date is always
// accepted). Every request is counted by the proxy, PutObjectRetention apart.
// Reports, per stride, the lengthenings a day (mean over whole cycles, peak)
// against the steady-state rate of shared/domain/content-locks.ts, and the
// requests a day with and without them. Never part of `npm test`.
// Run: npx tsx bench/content/locks.ts [objects=1000] [days=63] [stride=30] [shardKeys=400]
//      npx tsx bench/content/locks.ts --report   (the table again from locks-last-run.json)
import { readFileSync, writeFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { formatTable } from '../../local/demo/format.ts';
import { useEmulator } from '../../local/emulator.ts';
import { ensureVault } from '../../local/vault.ts';
import { vaultLock } from '../../shared/aws/vault-lock.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { contentBackupPorts } from '../../shared/aws/content-generations.ts';
import { type LockTerms, lengtheningsPerDay, lockStrideDays } from '../../shared/domain/content-locks.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { inParallel } from '../../shared/runtime/parallel.ts';
import { contentBackup } from '../../shared/usecases/content-backup.ts';
import { benchSource, countingProxy, seededEmulator, total } from './support.ts';

const OBJECTS = Number(process.argv[2] ?? 1000);
const DAYS = Number(process.argv[3] ?? 63);
const STRIDE = Number(process.argv[4] ?? 30);
const SHARD_KEYS = Number(process.argv[5] ?? 400);
const CHURN = 0.01;
const DAY = 86_400_000;
const GENERATIONS = 7;

interface Day {
  day: number;
  source: string;
  copied: number;
  locksExtended: number;
  retentionRequests: number;
  requests: number;
}

/** Per stride: the mean over whole cycles from day 1 (the initial copy is day 0), against the steady rate. */
function report(objects: number, sources: (LockTerms & { name: string })[], perDay: Day[]) {
  return sources.map((c) => {
    const stride = lockStrideDays(c);
    const window = perDay.filter((d) => d.source === c.name && d.day >= 1);
    const cycles = Math.floor(window.length / stride);
    const whole = window.slice(0, cycles * stride);
    const mean = (f: (d: Day) => number) => whole.reduce((n, d) => n + f(d), 0) / whole.length;
    return {
      source: c.name,
      'stride (days)': stride,
      'days (whole cycles)': `${whole.length} (${cycles})`,
      'lengthenings / day (mean)': mean((d) => d.locksExtended).toFixed(1),
      'peak day': Math.max(...whole.map((d) => d.locksExtended)),
      'steady rate': lengtheningsPerDay(objects, CHURN, c).toFixed(1),
      'PutObjectRetention / day': mean((d) => d.retentionRequests).toFixed(1),
      'requests / day': mean((d) => d.requests).toFixed(1),
      'requests / day without them': mean((d) => d.requests - d.retentionRequests).toFixed(1),
    };
  });
}

const LAST_RUN = new URL('./locks-last-run.json', import.meta.url);
if (process.argv[2] === '--report') {
  // Re-prints the table of the last run (its raw days), e.g. after a change to the steady rate.
  const last = JSON.parse(readFileSync(LAST_RUN, 'utf8')) as {
    objects: number;
    sources: (LockTerms & { name: string })[];
    perDay: Day[];
  };
  console.log(formatTable(report(last.objects, last.sources, last.perDay)));
  process.exit(0);
}

const emulator = await seededEmulator(OBJECTS);
const proxy = await countingProxy(emulator.endpoint);
useEmulator(emulator.endpoint);
const days: Day[] = [];
try {
  const policy = loadPolicy();
  policy.vault.bucket = 'bench-vault';
  const source = 's3://bench-src/images/';
  policy.content = [
    { name: 'default-stride', source, generations: GENERATIONS },
    { name: 'long-stride', source, generations: GENERATIONS, lockStrideDays: STRIDE },
  ];
  const direct = new Clients({ region: 'ap-northeast-1', endpoint: emulator.endpoint });
  await ensureVault(direct, policy);
  const counted = new Clients({ region: policy.region, endpoint: proxy.endpoint });
  const port = new S3ContentAdapter(counted, undefined, vaultLock(policy));
  const ports = contentBackupPorts(port, policy);
  const { keys, put } = benchSource(direct.get(S3Client), OBJECTS);
  const changedPerDay = Math.round(OBJECTS * CHURN);
  const t0 = Date.now();
  for (let day = 0; day <= DAYS; day++) {
    if (day > 0) {
      const changed = keys.filter((_, i) => (i * 7919 + day * 104_729) % OBJECTS < changedPerDay);
      await inParallel(changed, 16, (k) => put(k, day).then(() => undefined));
    }
    const time = new Date(Date.UTC(2026, 10, 1 + day, 20, 30));
    for (const c of policy.content) {
      proxy.take();
      const r = await contentBackup(time, policy, ports, {
        sources: [c.name],
        shardKeys: SHARD_KEYS,
        budgetMs: Number.POSITIVE_INFINITY,
        clock: () => Date.now() + day * DAY,
      });
      const counts = proxy.take();
      const target = r.targets[0] as { copied?: number; locksExtended?: number } | undefined;
      if (!r.ok || !r.complete) throw new Error(`day ${day} ${c.name} failed: ${JSON.stringify(r.targets)}`);
      days.push({
        day,
        source: c.name,
        copied: target?.copied ?? 0,
        locksExtended: target?.locksExtended ?? 0,
        retentionRequests: counts['PUT-retention'] ?? 0,
        requests: total(counts),
      });
    }
    const today = days.filter((d) => d.day === day);
    console.error(
      `day ${day} (${((Date.now() - t0) / 1000).toFixed(0)} s): ${today.map((d) => `${d.source} ${d.locksExtended} lengthened, ${d.requests} requests`).join('; ')}`,
    );
  }
  const rows = report(OBJECTS, policy.content, days);
  console.log(formatTable(rows));
  writeFileSync(
    new URL('./locks-last-run.json', import.meta.url),
    JSON.stringify(
      {
        objects: OBJECTS,
        days: DAYS,
        churn: CHURN,
        generations: GENERATIONS,
        shardKeys: SHARD_KEYS,
        node: process.version,
        sources: policy.content,
        rows,
        perDay: days,
      },
      null,
      1,
    ),
  );
} finally {
  await proxy.close();
  await emulator.stop();
}
