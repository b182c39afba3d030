// Local runtime: `sls package` with no credentials and no network, into a
// directory of our own; the template the IAM front layer evaluates against.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CfnTemplate } from './cfn.ts';

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '../..');
export const TEMPLATE_FILE = 'cloudformation-template-update-stack.json';

/** An environment with no AWS credentials and every proxy pointing at a closed loopback port. */
export function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_') || k.startsWith('KURA_IAM_')) delete env[k];
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

/** The packaged template in `dir`, packaging first when it is not there. */
export async function packageTemplate(dir: string): Promise<CfnTemplate> {
  const file = join(dir, TEMPLATE_FILE);
  if (!existsSync(file)) {
    await run(
      process.execPath,
      [join(ROOT, 'node_modules/osls/bin/serverless.js'), 'package', '--stage', 'prod', '--package', dir],
      { cwd: ROOT, env: offlineEnv(), maxBuffer: 64 * 1024 * 1024 },
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate;
}
