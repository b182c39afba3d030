// Benchmark (content restore at scale): a whole generation restored shard by
// shard on its stored plan against moto on loopback, each shard's slice in its
// own process as a Distributed Map child's Lambda runs it, every request counted
// by one proxy. Reports requests against the floor (the copies + one read of each
// shard manifest + the index), wall time and peak RSS per child. The generation is
// made first by an in-process content backup (setup, not measured). Never part of
// `npm test`.
// Run: npx tsx bench/content/restore.ts [objects=100000] [shardKeys=25000]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { formatTable } from '../../local/demo/format.ts';
import { useEmulator } from '../../local/emulator.ts';
import { ensureVault } from '../../local/vault.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { inParallel, S3ContentAdapter } from '../../shared/aws/content.ts';
import { contentBackupPorts } from '../../shared/aws/content-generations.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { type ContentJob, jobShards, type ShardProgress } from '../../shared/restore/content-shard-job.ts';
import { contentBackup } from '../../shared/usecases/content-backup.ts';
import { countingProxy, runChild, seededEmulator, total } from './support.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';

const OBJECTS = Number(process.argv[2] ?? 100_000);
const SHARD_KEYS = Number(process.argv[3] ?? 25_000);
/** Shards run at once (the Map runs up to 40; this machine has 2 cores). */
const PARALLEL = 2;
const CHILD = fileURLToPath(new URL('./restore-child.ts', import.meta.url));

interface ChildOut {
  complete: boolean;
  progress: ShardProgress;
  seconds: number;
  peakRssMiB: number;
}

const child = (args: string[]) => runChild<ChildOut>(CHILD, args);

const emulator = await seededEmulator(OBJECTS);
const proxy = await countingProxy(emulator.endpoint);
useEmulator(emulator.endpoint);
try {
  const policy = loadPolicy();
  policy.vault.bucket = 'bench-vault';
  policy.content = [{ name: 'bench', source: 's3://bench-src/images/', generations: 7 }];
  const dir = mkdtempSync(join(tmpdir(), 'kura-bench-'));
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy));
  const direct = new Clients({ region: 'ap-northeast-1', endpoint: emulator.endpoint });
  await ensureVault(direct, policy);
  await direct.get(S3Client).send(
    new CreateBucketCommand({
      Bucket: 'bench-restore',
      CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-1' },
    }),
  );
  const port = new S3ContentAdapter(direct);
  const b0 = Date.now();
  const backup = await contentBackup(
    new Date(Date.UTC(2026, 10, 1, 20, 30)),
    policy,
    contentBackupPorts(port, policy),
    {
      shardKeys: SHARD_KEYS,
      budgetMs: Number.POSITIVE_INFINITY,
    },
  );
  if (!backup.ok || !backup.complete) throw new Error(`backup failed: ${JSON.stringify(backup.targets)}`);
  console.error(`${OBJECTS}: generation backed up in ${((Date.now() - b0) / 1000).toFixed(1)} s`);

  const job: ContentJob = {
    id: 'bench-restore',
    mode: 'restore',
    source: 'bench',
    generation: '2026-11-02',
    to: { bucket: 'bench-restore', prefix: 'restored/' },
  };
  proxy.take();
  const started = Date.now();
  // The Map's items step: the generation's shards from its index (one GET, counted).
  const counted = new Clients({ region: policy.region, endpoint: proxy.endpoint });
  const shards = await jobShards(vaultContent(new S3ContentAdapter(counted), policy), job);
  const slices: ChildOut[] = [];
  await inParallel(shards, PARALLEL, async (s) => {
    let r: ChildOut;
    do {
      r = await child([proxy.endpoint, policyFile, JSON.stringify(job), JSON.stringify(s)]);
      slices.push(r);
      console.error(
        `shard ${s.shard}: ${r.progress.objects} objects, ${r.seconds.toFixed(1)} s, ${r.peakRssMiB.toFixed(0)} MiB`,
      );
    } while (!r.complete);
  });
  const seconds = (Date.now() - started) / 1000;
  const counts = proxy.take();
  const copied = slices.filter((s) => s.complete).reduce((n, s) => n + s.progress.copied, 0);
  // The copies, one read of each shard manifest, the index.
  const floor = copied + shards.length + 1;
  const row = {
    objects: OBJECTS,
    shards: shards.length,
    slices: slices.length,
    copied,
    requests: total(counts),
    floor,
    seconds,
    peakRssPerChildMiB: Math.max(...slices.map((s) => s.peakRssMiB)),
    detail: counts,
  };
  console.log(
    formatTable([
      {
        objects: row.objects,
        shards: row.shards,
        'child slices': row.slices,
        copied: row.copied,
        requests: row.requests,
        floor: row.floor,
        'requests / floor': (row.requests / row.floor).toFixed(3),
        'wall s': row.seconds.toFixed(1),
        'peak RSS per child (MiB)': row.peakRssPerChildMiB.toFixed(0),
      },
    ]),
  );
  writeFileSync(
    new URL('./restore-last-run.json', import.meta.url),
    JSON.stringify(
      { shardKeys: SHARD_KEYS, parallel: PARALLEL, node: process.version, row, slices },
      null,
      1,
    ),
  );
} finally {
  await proxy.close();
  await emulator.stop();
}
