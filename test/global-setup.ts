// Starts one emulator (local/emulator.ts: moto's server with kura's patches,
// AWS timing included) for the whole run on a free loopback port, with the
// IAM front layer in front of it (every request of the suite, in-process or
// from `kura` subprocesses, is checked against the packaged policies and
// recorded under .kura/iam-run/), and stops both afterwards. Test files
// isolate themselves by resource names, by the selector tag in their policy
// and by their own simulated clock, so they can share it.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type Emulator, startEmulator } from '../local/emulator.ts';
import { type IamFrontLayer, startIamFrontLayer } from '../local/iam/front.ts';
import { loadPolicy } from '../shared/policy/load.ts';
import { packagedTemplate, resetPackage, ROOT } from './support/packaged-template.ts';

let emulator: Emulator | undefined;
let front: IamFrontLayer | undefined;
export const IAM_RUN_DIR = process.env.KURA_IAM_RUN_DIR ?? join(ROOT, '.kura', 'iam-run');

export async function setup(project: TestProject): Promise<void> {
  resetPackage();
  rmSync(IAM_RUN_DIR, { recursive: true, force: true });
  const [started, packaged] = await Promise.all([
    // Every test file snapshots in the same account and region: together they need more
    // than one account's quota of 100 manual snapshots.
    startEmulator({ snapshotQuota: 1000 }),
    packagedTemplate(),
  ]);
  emulator = started;
  try {
    front = await startIamFrontLayer({
      target: emulator.endpoint,
      runDir: IAM_RUN_DIR,
      packaged,
      packagedFor: loadPolicy(),
    });
  } catch (err) {
    await emulator.stop();
    throw err;
  }
  project.provide('motoEndpoint', front.endpoint);
  project.provide('iamRunDir', IAM_RUN_DIR);
}

export async function teardown(): Promise<void> {
  await front?.close();
  await emulator?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The emulator as the suite reaches it: through the IAM front layer. */
    motoEndpoint: string;
    iamRunDir: string;
  }
}
