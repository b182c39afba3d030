// Starts one emulator (local/emulator.ts: moto's server with kura's patches,
// AWS timing included) for the whole run on a free loopback port and stops it
// afterwards. Test files isolate themselves by resource names, by the selector
// tag in their policy and by their own simulated clock, so they can share it.
import type { TestProject } from 'vitest/node';
import { type Emulator, startEmulator } from '../local/emulator.ts';
import { resetPackage } from './support/packaged-template.ts';

let emulator: Emulator | undefined;

export async function setup(project: TestProject): Promise<void> {
  resetPackage();
  // Every test file snapshots in the same account and region: together they need more
  // than one account's quota of 100 manual snapshots.
  emulator = await startEmulator({ snapshotQuota: 1000 });
  project.provide('motoEndpoint', emulator.endpoint);
}

export async function teardown(): Promise<void> {
  await emulator?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}
