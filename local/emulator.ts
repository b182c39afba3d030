// Local runtime: starts moto's server (the embedded AWS emulator) on a free
// loopback port and stops it. Used by the test global setup and `kura demo`.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrerequisiteError } from '../shared/runtime/errors.ts';

export interface Emulator {
  endpoint: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function motoAvailable(): boolean {
  return spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
}

async function waitUntilUp(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new PrerequisiteError(`moto_server exited with code ${child.exitCode} before it was up`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new PrerequisiteError(`moto_server did not answer on ${endpoint} within ${timeoutMs / 1000}s`);
}

/** kura's patches to moto (local/moto/sitecustomize.py loads them when Python starts), ahead of any PYTHONPATH. */
const MOTO_PATCHES = fileURLToPath(new URL('./moto', import.meta.url));
function motoPatchPath(): string {
  return [MOTO_PATCHES, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
}

export async function startEmulator(): Promise<Emulator> {
  if (!motoAvailable()) {
    throw new PrerequisiteError(
      "moto_server was not found on PATH. kura's local runs need moto's server mode: pip install 'moto[server]>=5.2' (Python 3), or set AWS_ENDPOINT_URL to a running emulator.",
    );
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ACCOUNT_ID: undefined, PYTHONPATH: motoPatchPath() } as NodeJS.ProcessEnv,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  try {
    await waitUntilUp(endpoint, child, 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new PrerequisiteError(`${(err as Error).message}\n${stderr}`);
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** Plain credentials land in moto's default account (123456789012), which plays production. */
export function useEmulator(endpoint: string): void {
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  delete process.env.AWS_SESSION_TOKEN;
  process.env.AWS_REGION ??= 'ap-northeast-1';
  delete process.env.AWS_PROFILE;
}
