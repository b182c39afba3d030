// Benchmark (logs): bundle 256 MiB and 1 GiB of realistic access-log text in
// many files through the emulator (moto), against `tar czf` of the same files
// on local disk in the same run. Reports throughput and the bundler's peak RSS,
// which must stay flat as the input grows. Writes bench/logs/RESULTS.md.
// Run: npx tsx bench/logs/run.ts [sizesMiB=256,1024] [fileMiB=4]
import { execFile } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { formatTable } from '../../local/demo/format.ts';
import { startEmulator, useEmulator } from '../../local/emulator.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { ensureVault } from '../../local/vault.ts';
import { mapLimit } from '../../shared/domain/logs/pool.ts';
import { loadPolicy } from '../../shared/policy/load.ts';

const root = join(import.meta.dirname, '..', '..');
const out = join(root, 'bench', 'out', 'logs');
const sizes = (process.argv[2] ?? '256,1024').split(',').map(Number);
const fileMiB = Number(process.argv[3] ?? 4);
const MiB = 1024 * 1024;
const execFileAsync = promisify(execFile);

// Realistic combined-format access log: varied clients, paths, agents, sizes.
const PATHS = [
  '/',
  '/search',
  '/items/',
  '/cart',
  '/api/v1/orders/',
  '/static/app.',
  '/img/p/',
  '/login',
  '/account/history',
];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
  'curl/8.5.0',
];
// xorshift32: a deterministic, well-spread sequence (no float overflow).
let seed = 2463534242;
const rnd = (n: number) => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};
function logLine(day: string, i: number): string {
  const p = PATHS[rnd(PATHS.length)] as string;
  const path =
    p.endsWith('/') || p.endsWith('.')
      ? `${p}${rnd(100000)}${p.endsWith('.') ? '.js' : ''}`
      : `${p}?q=${rnd(5000)}`;
  const status = [200, 200, 200, 200, 304, 302, 404, 500][rnd(8)];
  const t = `${day}T${String(Math.floor(i / 3600) % 24).padStart(2, '0')}:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}+09:00`;
  return `${rnd(223) + 1}.${rnd(256)}.${rnd(256)}.${rnd(256)} - - [${t}] "GET ${path} HTTP/1.1" ${status} ${rnd(90000)} "https://shop.example.jp${PATHS[rnd(PATHS.length)]}" "${AGENTS[rnd(AGENTS.length)]}" rt=${(rnd(2000) / 1000).toFixed(3)}\n`;
}

async function generate(dir: string, totalMiB: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const count = Math.ceil(totalMiB / fileMiB);
  for (let f = 0; f < count; f++) {
    const day = `2025-09-${String((f % 30) + 1).padStart(2, '0')}`;
    const name = `access.log-${day.replace(/-/g, '')}${String(Math.floor(f / 30)).padStart(2, '0')}`;
    const file = join(dir, name);
    files.push(name);
    if (existsSync(file) && statSync(file).size >= fileMiB * MiB) continue;
    const ws = createWriteStream(file);
    let written = 0;
    let i = 0;
    while (written < fileMiB * MiB) {
      let chunk = '';
      for (let k = 0; k < 500; k++) chunk += logLine(day, i++);
      written += Buffer.byteLength(chunk);
      if (!ws.write(chunk)) await new Promise<void>((r) => ws.once('drain', () => r()));
    }
    await new Promise<void>((r) => ws.end(() => r()));
  }
  return files;
}

const emulator = await startEmulator();
useEmulator(emulator.endpoint);
const clients = new Clients({ region: 'ap-northeast-1' });
const s3 = clients.get(S3Client);
const rows: Record<string, unknown>[] = [];
try {
  for (const size of sizes) {
    const dir = join(out, `input-${size}`);
    const files = await generate(dir, size);
    const inputBytes = files.reduce((n, f) => n + statSync(join(dir, f)).size, 0);

    // tar czf of the same files on local disk (gzip -6, single thread: the same work as the bundler).
    const tarFile = join(out, `tar-${size}.tar.gz`);
    const t0 = performance.now();
    await execFileAsync('tar', ['czf', tarFile, '-C', dir, '.']);
    const tarSeconds = (performance.now() - t0) / 1000;
    const tarBytes = statSync(tarFile).size;
    rmSync(tarFile);

    const policy = loadPolicy();
    policy.vault.bucket = `kura-bench-logs-${size}-${Date.now()}`;
    await ensureVault(clients, policy);
    await mapLimit(files, 8, async (f) => {
      const day = `2025-09-${f.slice(17, 19)}`; // access.log-yyyymmddNN
      await s3.send(
        new PutObjectCommand({
          Bucket: policy.vault.bucket,
          Key: `logs/access/bench-host/${day}/${f}`,
          Body: readFileSync(join(dir, f)),
          ChecksumAlgorithm: 'SHA256',
        }),
      );
    });
    const policyFile = join(out, `policy-${size}.json`);
    writeFileSync(policyFile, JSON.stringify(policy));
    // Asynchronously: moto logs every request to a pipe this process must keep draining
    // (a synchronous spawn here once filled that pipe and froze moto).
    const child = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/logs/bundle-child.ts'), emulator.endpoint, policyFile],
      { cwd: root, encoding: 'utf8', maxBuffer: 16 * MiB },
    );
    const r = JSON.parse(child.stdout.trim().split('\n').at(-1) as string);
    if (!r.ok) throw new Error(`bundling failed: ${JSON.stringify(r.error)}`);
    if (r.members !== files.length || r.bytesIn !== inputBytes) {
      throw new Error(
        `bundled ${r.members} files / ${r.bytesIn} bytes; expected ${files.length} / ${inputBytes}`,
      );
    }
    const mb = inputBytes / 1e6;
    rows.push({
      input: `${size} MiB`,
      files: files.length,
      'kura pack+upload MB/s': (mb / r.packUploadSeconds).toFixed(1),
      'kura end-to-end MB/s': (mb / r.totalSeconds).toFixed(1),
      'verify read-back s': r.verifySeconds.toFixed(1),
      'tar czf MB/s': (mb / tarSeconds).toFixed(1),
      'kura ratio': (inputBytes / r.bytesOut).toFixed(1),
      'tar ratio': (inputBytes / tarBytes).toFixed(1),
      'RSS before MiB': r.baselineRssMiB.toFixed(0),
      'peak RSS MiB': r.maxRssMiB.toFixed(0),
    });
    console.log(formatTable(rows.slice(-1)));
    rmSync(policyFile);
  }
} finally {
  await emulator.stop();
}

const table = formatTable(rows);
const md = [
  '# Log bundling benchmark',
  '',
  `Run ${new Date().toISOString()} on ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, moto_server (local, in-memory) as S3.`,
  `Input: realistic combined-format access logs, ${fileMiB} MiB per file, one host and one month; \`npx tsx bench/logs/run.ts ${sizes.join(',')} ${fileMiB}\`.`,
  '',
  '```',
  table,
  '```',
  '',
  '- kura pack+upload: read every loose file from S3, tar + gzip -6 + SHA-256 per member and per bundle, multipart upload (8 MiB parts, 2 in flight).',
  '- kura end-to-end: the whole log-bundle run: listing, pack+upload, read-back of the bundle with gunzip + tar parse + SHA-256 of every member, manifest, deletes.',
  '- tar czf: GNU tar with gzip (level 6) of the same files on local disk, in the same run.',
  '- peak RSS: the bundler process alone (maxRSS of a child process that runs only log-bundle); RSS before: that process after loading its code, before any work.',
  '',
].join('\n');
const resultsFile = join(root, 'bench', 'logs', 'RESULTS.md');
const notes = existsSync(resultsFile)
  ? readFileSync(resultsFile, 'utf8').split('<!-- notes -->')[1]
  : undefined;
writeFileSync(resultsFile, `${md}\n<!-- notes -->${notes ?? '\n'}`);
console.log(`\n${table}\nwritten to ${resultsFile}`);
