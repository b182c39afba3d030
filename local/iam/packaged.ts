// Local runtime: `sls package` with no credentials and no network, into a
// directory of our own; the template the IAM front layer evaluates against.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CfnTemplate } from './cfn.ts';
import { policyPath } from '../../shared/policy/load.ts';

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

/** What the packaged template is made of: the stack's files, the code its rendering runs, the policy. */
const TEMPLATE_INPUTS = ['serverless.yml', 'deploy', 'statemachines', 'functions', 'shared'];

/** A digest of every file the template is packaged from, so that a kept template is reused only while they are unchanged. */
export function templateInputsDigest(root = ROOT, policy = policyPath()): string {
  const hash = createHash('sha256');
  const add = (path: string) => hash.update(`${path}\u0000`).update(readFileSync(path)).update('\u0000');
  for (const input of TEMPLATE_INPUTS) {
    const path = join(root, input);
    if (statSync(path).isFile()) add(path);
    else
      for (const f of (readdirSync(path, { recursive: true }) as string[]).sort()) {
        const p = join(path, f);
        if (statSync(p).isFile()) add(p);
      }
  }
  add(policy);
  return hash.digest('hex');
}

/**
 * The packaged template in `dir`, packaging first when it is not there or was
 * packaged from other files: a demo after an edit of deploy/iam/*.yml must check
 * its requests against the edited policies, not the ones packaged last time.
 */
export async function packageTemplate(dir: string): Promise<CfnTemplate> {
  const file = join(dir, TEMPLATE_FILE);
  const stamp = join(dir, '.kura-inputs');
  const digest = templateInputsDigest();
  if (existsSync(file) && (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== digest))
    rmSync(dir, { recursive: true, force: true });
  if (!existsSync(file)) {
    await run(
      process.execPath,
      [join(ROOT, 'node_modules/osls/bin/serverless.js'), 'package', '--stage', 'prod', '--package', dir],
      { cwd: ROOT, env: offlineEnv(), maxBuffer: 64 * 1024 * 1024 },
    );
    writeFileSync(stamp, digest);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate;
}
