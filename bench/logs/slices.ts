// Benchmark (logs): one (class, host, month) group larger than one invocation's
// budget, bundled by the log-bundle Map child invoked again and again (each
// invocation its own process, as on Lambda) until the group reports complete.
// Reports invocations, wall time, peak RSS per invocation, and parts sent.
// Run: npx tsx bench/logs/slices.ts [inputMiB=2048] [budgetSeconds=60] [segmentMiB=64] [fileMiB=8]
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { formatTable } from '../../local/demo/format.ts';
import { startEmulator, useEmulator } from '../../local/emulator.ts';
import { ensureVault } from '../../local/vault.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { mapLimit } from '../../shared/domain/logs/pool.ts';
import { loadPolicy } from '../../shared/policy/load.ts';

const inputMiB = Number(process.argv[2] ?? 2048);
const budgetSeconds = Number(process.argv[3] ?? 60);
const segmentMiB = Number(process.argv[4] ?? 64);
const fileMiB = Number(process.argv[5] ?? 8);
const MiB = 1024 * 1024;
const CHILD = fileURLToPath(new URL('./slice-child.ts', import.meta.url));
const run = promisify(execFile);

// Access-log-like text, deterministic, compressing about as real logs do (~8x).
function logFile(n: number, bytes: number): Buffer {
  let s = 2463534242 + n;
  const rnd = (m: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % m;
  };
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const l = `${rnd(223) + 1}.${rnd(256)}.${rnd(256)}.${rnd(256)} - - [2025-09-${String((n % 30) + 1).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00+09:00] "GET /items/${rnd(100000)}?q=${rnd(5000)} HTTP/1.1" ${[200, 200, 304, 404][rnd(4)]} ${rnd(90000)} "-" "Mozilla/5.0 (${['Windows NT 10.0', 'iPhone', 'Macintosh'][rnd(3)]})" rt=${(rnd(2000) / 1000).toFixed(3)}\n`;
    lines.push(l);
    size += l.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

const emulator = await startEmulator();
useEmulator(emulator.endpoint);
try {
  const policy = loadPolicy();
  policy.vault.bucket = 'bench-logs-vault';
  const dir = mkdtempSync(join(tmpdir(), 'kura-bench-logs-'));
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy));
  const clients = new Clients({ region: policy.region, endpoint: emulator.endpoint });
  await ensureVault(clients, policy);
  const s3 = clients.get(S3Client);
  const files = Math.ceil(inputMiB / fileMiB);
  const t0 = Date.now();
  await mapLimit(
    Array.from({ length: files }, (_, i) => i),
    4,
    async (i) => {
      const day = `2025-09-${String((i % 30) + 1).padStart(2, '0')}`;
      await s3.send(
        new PutObjectCommand({
          Bucket: policy.vault.bucket,
          Key: `logs/access/web-1/${day}/access.log-${String(i).padStart(5, '0')}`,
          Body: logFile(i, fileMiB * MiB),
          ChecksumAlgorithm: 'SHA256',
        }),
      );
    },
  );
  console.error(`seeded ${files} files (${inputMiB} MiB) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const rows: { invocation: number; seconds: number; maxRssMiB: number; complete: boolean; note: string }[] =
    [];
  const started = Date.now();
  let last: Record<string, unknown> = {};
  for (let i = 1; i <= 200; i++) {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        CHILD,
        emulator.endpoint,
        policyFile,
        String(budgetSeconds * 1000),
        String(segmentMiB),
      ],
      { maxBuffer: 16 * MiB },
    );
    last = JSON.parse(stdout) as Record<string, unknown>;
    if (!last.ok) throw new Error(`invocation ${i} failed: ${JSON.stringify(last.error)}`);
    const actions = (last.actions as string[]) ?? [];
    rows.push({
      invocation: i,
      seconds: Number(last.seconds),
      maxRssMiB: Number(last.maxRssMiB),
      complete: Boolean(last.complete),
      note: (actions.at(-1) ?? '').replace(/^.*part-001\.tar\.gz:? ?/, '').slice(0, 110),
    });
    console.error(JSON.stringify(rows.at(-1)));
    if (last.complete) break;
  }
  const wall = (Date.now() - started) / 1000;
  console.log(
    formatTable(
      rows.map((r) => ({
        invocation: r.invocation,
        s: r.seconds.toFixed(1),
        'peak RSS MiB': r.maxRssMiB.toFixed(0),
        complete: r.complete ? 'yes' : 'no',
        note: r.note,
      })),
    ),
  );
  const summary = {
    date: new Date().toISOString(),
    inputMiB,
    fileMiB,
    segmentMiB,
    budgetSeconds,
    invocations: rows.length,
    wallSeconds: wall,
    bytesIn: last.bytesIn,
    bytesOut: last.bytesOut,
    peakRssMiB: Math.max(...rows.map((r) => r.maxRssMiB)),
    node: process.version,
  };
  console.log(JSON.stringify(summary));
  writeFileSync(
    new URL('./slices-last-run.json', import.meta.url),
    JSON.stringify({ summary, rows }, null, 1),
  );
} finally {
  await emulator.stop();
}
