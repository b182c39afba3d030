// Local runtime: what each backup class contributes to `kura demo`.
import type { Deps } from '../../shared/aws/deps.ts';
import type { SimulatedClock } from '../simulated-time.ts';

export interface DemoContext {
  deps: Deps;
  /** The demo's simulated time: a step sets it to each run's scheduled time before the run. */
  clock: SimulatedClock;
  /** The simulated period: [from, to). Schedules fire at their policy times in it. */
  from: Date;
  to: Date;
  log: (line: string) => void;
  /** Prints rows as an aligned table. */
  table: (rows: Record<string, unknown>[]) => void;
}

export interface DemoStep {
  title: string;
  run(ctx: DemoContext): Promise<{ ok: boolean; summary: string }>;
}
