// Starts one moto server for the whole run on a free loopback port and stops
// it afterwards. Test files isolate themselves by resource names and by the
// selector tag in their policy, so they can share it.
import type { TestProject } from 'vitest/node';
import { type Emulator, startEmulator } from '../local/emulator.ts';
import { resetPackage } from './support/packaged-template.ts';

let emulator: Emulator | undefined;

export async function setup(project: TestProject): Promise<void> {
  resetPackage();
  emulator = await startEmulator();
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
