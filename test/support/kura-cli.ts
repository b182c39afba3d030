// Test support: the real `kura` command in a child process, as a person or a
// scheduled job runs it, against the shared emulator (on this test file's
// simulated clock) unless the caller's env names another endpoint.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { clock } from './emulator.ts';
import { ROOT } from './packaged-template.ts';

const exec = promisify(execFile);

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs bin/kura.mjs with `args`; a non-zero exit is a result to assert on, not
 * a throw. The file's clock then continues from where the command left it
 * (a restore's waits move the command's clock).
 */
export async function runKura(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  const clockFile = join(tmpdir(), `kura-clock-${randomBytes(6).toString('hex')}`);
  const ran = await exec(process.execPath, [join(ROOT, 'bin/kura.mjs'), ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: inject('motoEndpoint'),
      AWS_ACCESS_KEY_ID: `testing-w${process.env.VITEST_POOL_ID ?? '0'}`,
      AWS_SECRET_ACCESS_KEY: 'testing',
      // The command's requests carry this test file's simulated time.
      KURA_SIMULATED_TIME: clock.now().toISOString(),
      KURA_SIMULATED_TIME_FILE: clockFile,
      ...env,
    },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
  try {
    clock.advanceTo(new Date(readFileSync(clockFile, 'utf8')));
    rmSync(clockFile);
  } catch (err) {
    // A command that made no AWS client (refused input) has no clock to hand back.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return ran;
}
