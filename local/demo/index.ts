// Local runtime: `kura demo` runs every class's demo step in turn on the
// emulator: the whole pipeline end to end.
import { rdsDemo } from './rds.ts';
import type { DemoStep } from './types.ts';

export const DEMO_STEPS: DemoStep[] = [rdsDemo];
