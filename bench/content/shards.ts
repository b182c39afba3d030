// Benchmark (content class, sharded): the daily run at several sizes against
// moto on loopback, each step (plan, every shard, finish) in its own process
// as Lambda runs them, every request counted by one proxy. Reports requests per
// daily run against the floor (listing pages + changed copies + reading the
// previous manifest and writing the new one), wall time, and peak RSS per
// child. Never part of `npm test`.
// Run: npx tsx bench/content/shards.ts [sizes=20000,100000] [shardKeys=25000] [days=2]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { formatTable } from '../../local/demo/format.ts';
import { useEmulator } from '../../local/emulator.ts';
import { ensureVault } from '../../local/vault.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { inParallel } from '../../shared/aws/content.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { benchSource, countingProxy, runChild, seededEmulator, total } from './support.ts';

const SIZES = (process.argv[2] ?? '20000,100000').split(',').map(Number);
const SHARD_KEYS = Number(process.argv[3] ?? 25_000);
const DAYS = Number(process.argv[4] ?? 2);
/** Shards run at once (the Map runs up to 40; this machine has 2 cores). */
const PARALLEL = 2;
const CHILD = fileURLToPath(new URL('./step-child.ts', import.meta.url));

interface ChildOut {
  ok: boolean;
  complete: boolean;
  items?: { shard: number }[];
  target?: Record<string, unknown>;
  seconds: number;
  baselineRssMiB: number;
  peakRssMiB: number;
}

async function child(args: string[]): Promise<ChildOut> {
  const r = await runChild<ChildOut>(CHILD, args);
  if (!r.ok) throw new Error(`step ${args[3]} not ok: ${JSON.stringify(r.target)}`);
  return r;
}

interface Row {
  objects: number;
  run: string;
  shards: number;
  requests: number;
  floor: number;
  seconds: number;
  stepSeconds: number;
  peakRssMiB: number;
  peakShardRssMiB: number;
  copied: number;
  detail: Record<string, number>;
}

async function runSize(objects: number): Promise<Row[]> {
  // The source is seeded inside moto's backend (setup, not measured): see seeded_emulator.py.
  const emulator = await seededEmulator(objects);
  const proxy = await countingProxy(emulator.endpoint);
  useEmulator(emulator.endpoint);
  const rows: Row[] = [];
  try {
    const policy = loadPolicy();
    policy.vault.bucket = 'bench-vault';
    policy.content = [{ name: 'bench', source: 's3://bench-src/images/', generations: 7 }];
    const dir = mkdtempSync(join(tmpdir(), 'kura-bench-'));
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(policy));
    const direct = new Clients({ region: 'ap-northeast-1', endpoint: emulator.endpoint });
    const s3 = direct.get(S3Client);
    await ensureVault(direct, policy);
    const { keys, put } = benchSource(s3, objects);
    const changedPerDay = Math.round(objects * 0.01);
    for (let day = 0; day <= DAYS; day++) {
      if (day > 0) {
        const changed = keys.filter((_, i) => (i * 7919 + day * 104_729) % objects < changedPerDay);
        await inParallel(changed, 64, (k) => put(k, day).then(() => undefined));
      }
      proxy.take();
      const time = new Date(Date.UTC(2026, 10, 1 + day, 20, 30)).toISOString();
      const started = Date.now();
      const steps: ChildOut[] = [];
      const step = async (name: string, shard = '') => {
        const r = await child([proxy.endpoint, policyFile, time, name, shard, String(SHARD_KEYS)]);
        steps.push(r);
        return r;
      };
      let plan = await step('plan');
      while (!plan.complete) plan = await step('plan');
      const shards: ChildOut[] = [];
      await inParallel(plan.items ?? [], PARALLEL, async (item) => {
        let r = await step('shard', String(item.shard));
        while (!r.complete) r = await step('shard', String(item.shard));
        shards.push(r);
      });
      const fin = await step('finish');
      const seconds = (Date.now() - started) / 1000;
      const counts = proxy.take();
      const copied = Number(fin.target?.copied ?? 0);
      rows.push({
        objects,
        run: day === 0 ? 'initial (full)' : `day ${day} (1% changed)`,
        shards: plan.items?.length ?? 0,
        requests: total(counts),
        // Listing pages + the copies of what changed + the previous manifest read and the new one written.
        floor: Math.ceil(objects / 1000) + copied + (day === 0 ? 1 : 2),
        seconds,
        stepSeconds: steps.reduce((n, s) => n + s.seconds, 0),
        peakRssMiB: Math.max(...steps.map((s) => s.peakRssMiB)),
        peakShardRssMiB: Math.max(...shards.map((s) => s.peakRssMiB)),
        copied,
        detail: counts,
      });
      console.error(`${objects} ${rows.at(-1)?.run}: ${JSON.stringify(rows.at(-1))}`);
    }
  } finally {
    await proxy.close();
    await emulator.stop();
  }
  return rows;
}

const rows: Row[] = [];
for (const n of SIZES) rows.push(...(await runSize(n)));
console.log(
  formatTable(
    rows.map((r) => ({
      objects: r.objects,
      run: r.run,
      shards: r.shards,
      requests: r.requests,
      floor: r.floor,
      'requests / floor': (r.requests / r.floor).toFixed(3),
      'wall s': r.seconds.toFixed(1),
      'step s (sum)': r.stepSeconds.toFixed(1),
      'peak RSS per shard child (MiB)': r.peakShardRssMiB.toFixed(0),
      'peak RSS any step (MiB)': r.peakRssMiB.toFixed(0),
    })),
  ),
);
writeFileSync(
  new URL('./shards-last-run.json', import.meta.url),
  JSON.stringify({ shardKeys: SHARD_KEYS, parallel: PARALLEL, node: process.version, rows }, null, 1),
);
