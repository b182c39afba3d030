// Test support: `sls package` once per test run, with no credentials and no
// network, shared by every test that reads the packaged template. A lock
// directory serialises packaging across vitest workers (serverless-esbuild
// works in the service directory).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { offlineEnv, packageTemplate, ROOT, TEMPLATE_FILE } from '../../local/iam/packaged.ts';

export { ROOT };
export const PACKAGE_DIR = process.env.KURA_SLS_TEST_DIR ?? join(ROOT, '.kura', 'sls-test');
const LOCK = `${PACKAGE_DIR}.lock`;
export const TEMPLATE = join(PACKAGE_DIR, TEMPLATE_FILE);

export type Template = {
  Resources: Record<string, { Type: string; Properties?: Record<string, any>; [k: string]: unknown }>;
};

export { offlineEnv };

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
  return withLock(async () => (await packageTemplate(PACKAGE_DIR)) as Template);
}
