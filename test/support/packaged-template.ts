// Test support: `sls package` once per test run, with no credentials and no
// network, shared by every test that reads the packaged template. A lock
// directory serialises packaging across vitest workers (serverless-esbuild
// works in the service directory).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '../..');
export const PACKAGE_DIR = join(ROOT, '.kura', 'sls-test');
const LOCK = join(ROOT, '.kura', 'sls-test.lock');
export const TEMPLATE = join(PACKAGE_DIR, 'cloudformation-template-update-stack.json');

export type Template = {
  Resources: Record<string, { Type: string; Properties?: Record<string, any>; [k: string]: unknown }>;
};

/** An environment with no AWS credentials and every proxy pointing at a closed loopback port. */
export function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  return {
    ...env,
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_CONFIG_FILE: '/nonexistent',
    HTTP_PROXY: 'http://127.0.0.1:9',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(join(ROOT, '.kura'), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Removes an earlier run's package (global setup calls this). */
export function resetPackage(): void {
  rmSync(PACKAGE_DIR, { recursive: true, force: true });
  rmSync(LOCK, { recursive: true, force: true });
}

export async function packagedTemplate(): Promise<Template> {
  return withLock(async () => {
    if (!existsSync(TEMPLATE)) {
      await run(
        process.execPath,
        [
          join(ROOT, 'node_modules/osls/bin/serverless.js'),
          'package',
          '--stage',
          'prod',
          '--package',
          PACKAGE_DIR,
        ],
        {
          cwd: ROOT,
          env: offlineEnv(),
          maxBuffer: 64 * 1024 * 1024,
        },
      );
    }
    return JSON.parse(readFileSync(TEMPLATE, 'utf8')) as Template;
  });
}
