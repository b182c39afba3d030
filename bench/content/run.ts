// Benchmark (content class): 20,000 objects, 1% changed per day, against moto
// on loopback. Every request of both tools goes through one counting proxy,
// so "requests per run" is measured the same way for kura and for rclone.
// kura: one content-backup run (a full generation, copying only changes).
// rclone: `rclone sync` of the same source to a plain bucket (a mirror, no
// generations), with default checks and with --checksum (ETag from the listing).
// Run: npx tsx bench/content/run.ts [objects] [days]   (needs rclone: apt-get install -y rclone)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { formatTable } from '../../local/demo/format.ts';
import { startEmulator, useEmulator } from '../../local/emulator.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { inParallel, S3ContentAdapter } from '../../shared/aws/content.ts';
import { contentBackupPorts } from '../../shared/aws/content-generations.ts';
import { ensureVault } from '../../local/vault.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { contentBackup } from '../../shared/usecases/content-backup.ts';
import { benchSource, countingProxy, total } from './support.ts';

const OBJECTS = Number(process.argv[2] ?? 20_000);
const DAYS = Number(process.argv[3] ?? 3);
const CHANGED = Math.round(OBJECTS * 0.01);
const CONCURRENCY = 32;

interface Row {
  run: string;
  tool: string;
  seconds: number;
  requests: number;
  detail: string;
}

async function main() {
  if (spawnSync('rclone', ['version'], { stdio: 'ignore' }).status !== 0)
    throw new Error('rclone not found: apt-get install -y rclone');
  const rcloneVersion = execFileSync('rclone', ['version'], { encoding: 'utf8' }).split('\n')[0];
  const emulator = await startEmulator();
  const proxy = await countingProxy(emulator.endpoint);
  useEmulator(proxy.endpoint);
  const rows: Row[] = [];
  try {
    const policy = loadPolicy();
    policy.vault.bucket = 'bench-vault';
    policy.content = [{ name: 'bench', source: 's3://bench-src/images/', generations: 7 }];
    const direct = new Clients({ region: 'ap-northeast-1', endpoint: emulator.endpoint });
    const clients = new Clients({ region: 'ap-northeast-1', endpoint: proxy.endpoint });
    const s3 = direct.get(S3Client);
    for (const b of ['bench-src', 'bench-rclone', 'bench-rclone-checksum']) {
      await s3.send(
        new CreateBucketCommand({
          Bucket: b,
          CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-1' },
        }),
      );
    }
    await ensureVault(direct, policy);
    const { keys, put } = benchSource(s3, OBJECTS);
    const t0 = Date.now();
    await inParallel(keys, 64, (k) => put(k, 0).then(() => undefined));
    console.error(`seeded ${OBJECTS} objects in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    proxy.take();

    // rclone reads AWS_* variables too (a CA bundle there breaks its plain-http transport): give it only its remote.
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))),
      RCLONE_CONFIG: '/dev/null',
      RCLONE_CONFIG_MOTO_TYPE: 's3',
      RCLONE_CONFIG_MOTO_PROVIDER: 'Other',
      RCLONE_CONFIG_MOTO_ENDPOINT: proxy.endpoint,
      RCLONE_CONFIG_MOTO_ACCESS_KEY_ID: 'testing',
      RCLONE_CONFIG_MOTO_SECRET_ACCESS_KEY: 'testing',
      RCLONE_CONFIG_MOTO_REGION: 'ap-northeast-1',
      RCLONE_CONFIG_MOTO_FORCE_PATH_STYLE: 'true',
    };
    // Asynchronous: the counting proxy runs in this process and must keep serving.
    const rclone = (dst: string, extra: string[]) =>
      new Promise<number>((resolve, reject) => {
        const started = Date.now();
        const args = [
          'sync',
          'moto:bench-src/images',
          `moto:${dst}/images`,
          '--transfers',
          String(CONCURRENCY),
          '--checkers',
          String(CONCURRENCY),
          ...extra,
        ];
        const child = spawn('rclone', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0
            ? resolve((Date.now() - started) / 1000)
            : reject(new Error(`rclone failed (${code}): ${stderr}`)),
        );
      });
    const port = new S3ContentAdapter(clients);
    for (let day = 0; day <= DAYS; day++) {
      const run = day === 0 ? 'initial (full)' : `day ${day} (1% changed)`;
      if (day > 0) {
        const changed = keys.filter((_, i) => (i * 7919 + day * 104_729) % OBJECTS < CHANGED);
        await inParallel(changed, 64, (k) => put(k, day).then(() => undefined));
        proxy.take();
      }
      const time = new Date(Date.UTC(2026, 10, 1 + day, 20, 30));
      let started = Date.now();
      const result = await contentBackup(time, policy, contentBackupPorts(port, policy), { concurrency: CONCURRENCY });
      const kuraSeconds = (Date.now() - started) / 1000;
      if (!result.complete) throw new Error(`kura run incomplete: ${JSON.stringify(result.targets)}`);
      let c = proxy.take();
      rows.push({
        run,
        tool: 'kura content-backup',
        seconds: kuraSeconds,
        requests: total(c),
        detail: JSON.stringify(c),
      });
      started = Date.now();
      const s1 = await rclone('bench-rclone', []);
      c = proxy.take();
      rows.push({ run, tool: 'rclone sync', seconds: s1, requests: total(c), detail: JSON.stringify(c) });
      const s2 = await rclone('bench-rclone-checksum', ['--checksum']);
      c = proxy.take();
      rows.push({
        run,
        tool: 'rclone sync --checksum',
        seconds: s2,
        requests: total(c),
        detail: JSON.stringify(c),
      });
      console.error(`${run}: done (kura copied ${result.targets[0]?.copied})`);
    }
  } finally {
    await proxy.close();
    await emulator.stop();
  }
  const daily = rows.filter((r) => r.run.startsWith('day'));
  const avg = (tool: string, f: (r: Row) => number) => {
    const rs = daily.filter((r) => r.tool === tool);
    return rs.reduce((n, r) => n + f(r), 0) / rs.length;
  };
  const kuraReq = avg('kura content-backup', (r) => r.requests);
  const kuraSec = avg('kura content-backup', (r) => r.seconds);
  const ratios = ['rclone sync', 'rclone sync --checksum'].map((tool) => ({
    'daily run (mean)': `kura vs ${tool}`,
    'kura requests': kuraReq.toFixed(0),
    'rclone requests': avg(tool, (r) => r.requests).toFixed(0),
    'requests ratio (kura/rclone)': (kuraReq / avg(tool, (r) => r.requests)).toFixed(3),
    'kura s': kuraSec.toFixed(2),
    'rclone s': avg(tool, (r) => r.seconds).toFixed(2),
    'wall-time ratio (kura/rclone)': (kuraSec / avg(tool, (r) => r.seconds)).toFixed(3),
  }));
  const table = formatTable(
    rows.map((r) => ({
      run: r.run,
      tool: r.tool,
      seconds: r.seconds.toFixed(2),
      requests: r.requests,
      'by kind': r.detail,
    })),
  );
  const ratioTable = formatTable(ratios);
  console.log(table);
  console.log();
  console.log(ratioTable);
  writeFileSync(
    new URL('./last-run.json', import.meta.url),
    JSON.stringify(
      {
        objects: OBJECTS,
        changedPerDay: CHANGED,
        days: DAYS,
        concurrency: CONCURRENCY,
        rclone: rcloneVersion,
        node: process.version,
        rows,
        ratios,
      },
      null,
      1,
    ),
  );
}

await main();
