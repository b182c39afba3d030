// Local runtime: starts kura's emulator (moto's server with the patches in
// local/moto/ that give it AWS's timing, state errors and cross-account
// snapshot copies) on a free loopback port, and stops it. Used by the test
// global setup and `kura demo`. Python and moto are prerequisites: a missing
// one is a PrerequisiteError that names the install command.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PrerequisiteError } from '../shared/runtime/errors.ts';
import type { DurationKind } from './simulated-time.ts';

export interface Emulator {
  endpoint: string;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Emulator-wide durations (seconds) replacing the defaults in local/moto/kura_moto/simtime.py. */
  durations?: Partial<Record<DurationKind, number>>;
  /** Manual DB (and DB cluster) snapshots per account and region: AWS's default quota, 100, unless set. */
  snapshotQuota?: number;
  /** Benchmarks only: a launcher that prepares state in moto's backends, then serves as serve.py does. */
  launcher?: { script: string; env: Record<string, string> };
}

const SERVE = fileURLToPath(new URL('./moto/serve.py', import.meta.url));
const INSTALL = "pip install 'moto[server]>=5.2,<5.3' (Python 3)";

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

/** The Python that runs the emulator: KURA_PYTHON, else python3 on PATH (moto_server's interpreter). */
export function emulatorPython(): string {
  return process.env.KURA_PYTHON ?? 'python3';
}

/** Why kura's emulator cannot start here, or undefined when it can. */
export function emulatorProblem(): string | undefined {
  const python = emulatorPython();
  const r = spawnSync(python, [SERVE, '--list'], { encoding: 'utf8' });
  if (r.error)
    return `${python} was not found on PATH: kura's local runs need Python 3 with moto's server mode: ${INSTALL}`;
  if (r.status !== 0) return (r.stderr || r.stdout || `${python} ${SERVE} exited with ${r.status}`).trim();
  return undefined;
}

async function waitUntilUp(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  failed: () => Error | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const err = failed();
    if (err) throw err;
    if (child.exitCode !== null)
      throw new PrerequisiteError(`kura's emulator exited with code ${child.exitCode} before it was up`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new PrerequisiteError(`kura's emulator did not answer on ${endpoint} within ${timeoutMs / 1000}s`);
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const script = opts.launcher?.script ?? SERVE;
  const child = spawn(emulatorPython(), [script, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      // Every account is reached as on AWS (STS AssumeRole); one pinned account would hide that.
      MOTO_ACCOUNT_ID: undefined,
      // Only kura's own images matter; moto's thousands of public ones make every DescribeImages slow.
      MOTO_EC2_LOAD_DEFAULT_AMIS: 'false',
      KURA_EMULATOR_DURATIONS: opts.durations ? JSON.stringify(opts.durations) : undefined,
      MOTO_RDS_SNAPSHOT_LIMIT: String(opts.snapshotQuota ?? 100),
      ...opts.launcher?.env,
    } as NodeJS.ProcessEnv,
  });
  let stderr = '';
  let spawnError: Error | undefined;
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.on('error', (err) => {
    spawnError = err;
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  try {
    // moto's imports take ~3 s idle but over 30 s on a shared machine under load; a server
    // that fails to start exits, and that is reported at once, so the wait can be generous.
    await waitUntilUp(endpoint, child, opts.launcher ? 600_000 : 120_000, () => spawnError);
  } catch (err) {
    child.kill('SIGKILL');
    if (spawnError)
      throw new PrerequisiteError(
        `${emulatorPython()} was not found on PATH: kura's local runs need Python 3 with moto's server mode: ${INSTALL}`,
      );
    // The launcher exits 3 with a one-line reason when moto is missing or unsupported.
    if (child.exitCode === 3) {
      await closed;
      throw new PrerequisiteError(stderr.trim());
    }
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

/**
 * Plain credentials and a region for this process: against the emulator they
 * land in moto's default account (123456789012), which plays production.
 * AWS_ENDPOINT_URL is set for the SDK's own configured-endpoint support and for
 * child processes; kura's Clients take their endpoint from whoever creates them.
 */
export function useEmulator(endpoint: string): void {
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  delete process.env.AWS_SESSION_TOKEN;
  process.env.AWS_REGION ??= 'ap-northeast-1';
  delete process.env.AWS_PROFILE;
}
