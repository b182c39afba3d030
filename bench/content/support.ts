// Benchmark support (content class): an HTTP proxy in front of moto that
// counts every S3 request by kind, so that kura and other tools (and kura's
// steps in separate processes) are measured the same way; and the source
// both content benchmarks seed.
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { fileURLToPath } from 'node:url';
import { freePort, startEmulator } from '../../local/emulator.ts';

function classify(method: string, url: string, headers: Record<string, unknown>): string {
  if (url === '/' || url.startsWith('/?') || url.startsWith('/moto-api')) return 'other';
  const path = url.split('?')[0] ?? '';
  // A GET on the bucket itself is a listing (kura: ListObjectsV2; rclone 1.60: ListObjects v1).
  if (
    method === 'GET' &&
    /^\/[^/]+\/?$/.test(path) &&
    !/[?&](versions|tagging|object-lock|versioning|location)/.test(url)
  )
    return 'LIST';
  if (method === 'GET' && /[?&](versions|tagging|object-lock|versioning)/.test(url)) return 'GET-config';
  if (method === 'GET') return 'GET';
  if (method === 'HEAD') return 'HEAD';
  if (method === 'PUT' && headers['x-amz-copy-source']) return 'COPY';
  if (method === 'PUT' && /[?&]retention/.test(url)) return 'PUT-retention';
  if (method === 'PUT') return 'PUT';
  if (method === 'DELETE') return 'DELETE';
  if (method === 'POST') return 'POST';
  return method;
}

export async function countingProxy(target: string) {
  const upstream = new URL(target);
  let counts: Record<string, number> = {};
  const server = createServer((req, res) => {
    const op = classify(req.method ?? '', req.url ?? '', req.headers);
    counts[op] = (counts[op] ?? 0) + 1;
    const p = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    p.on('error', () => res.destroy());
    req.pipe(p);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    take(): Record<string, number> {
      const c = counts;
      counts = {};
      return c;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export const total = (c: Record<string, number>) =>
  Object.entries(c).reduce((n, [k, v]) => n + (k === 'other' ? 0 : v), 0);

/** The benchmarks' source: `objects` keys over 100 "folders", 1.0–1.6 KiB each, with POSIX metadata. */
export function benchSource(s3: S3Client, objects: number) {
  const keys = Array.from(
    { length: objects },
    (_, i) => `u/${String(i % 100).padStart(2, '0')}/img-${String(i).padStart(6, '0')}.jpg`,
  );
  /** Writes version `v` of a key (v = the day it changed). */
  const put = (k: string, v: number) =>
    s3.send(
      new PutObjectCommand({
        Bucket: 'bench-src',
        Key: `images/${k}`,
        Body: Buffer.alloc(1024 + (k.length % 7) * 100, `${k}#${v}`),
        ContentType: 'image/jpeg',
        Metadata: { mode: '33188', uid: '1000', gid: '1000', mtime: String(1_763_000_000 + v) },
      }),
    );
  return { keys, put };
}

/** Runs a child script (one step, alone in its process as Lambda runs it) and parses the JSON it prints. */
export function runChild<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as T)
        : reject(new Error(`${args.join(' ').slice(0, 200)} failed (${code}): ${err.slice(-2000)}`)),
    );
  });
}

/** A moto server with `objects` source objects seeded in its backend (setup, not measured). */
export async function seededEmulator(objects: number) {
  const t0 = Date.now();
  const emulator = await startEmulator({
    launcher: {
      script: fileURLToPath(new URL('./seeded_emulator.py', import.meta.url)),
      env: {
        KURA_BENCH_SEED: JSON.stringify({
          bucket: 'bench-src',
          region: 'ap-northeast-1',
          prefix: 'images/',
          objects,
        }),
      },
    },
  });
  console.error(`${objects}: emulator up and seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return emulator;
}
