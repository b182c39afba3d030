// Validation checks: what every class's check receives and returns. A check
// looks at what a restore step produced in the isolated account and says,
// per property, pass or fail with a reason a person can act on.

import type { Deps } from '../../aws/deps.ts';
import type { CheckResult } from '../../domain/validation-report.ts';
import type { IsolatedTarget, RestoredItem } from '../../restore/types.ts';
import type { DbAccessPort, SqlProbePort } from './sql-probe.ts';

/** Ports a check may use; tests replace them to point at a stand-in or inject a fault. */
export interface CheckPorts {
  sqlProbe?: SqlProbePort;
  dbAccess?: DbAccessPort;
  /** Streams an object's bytes from the isolated account (content and logs checks). */
  readObject?: (target: IsolatedTarget, bucket: string, key: string) => AsyncIterable<Uint8Array>;
}

export interface CheckContext {
  deps: Deps;
  target: IsolatedTarget;
  /** The run's scheduled time. */
  now: Date;
  ports: CheckPorts;
}

export interface CheckOutcome {
  checks: CheckResult[];
  /** Minutes of data the recovery point does not hold, when the check can tell. */
  achievedRpoMinutes?: number;
}

export type ClassCheck = (ctx: CheckContext, item: RestoredItem) => Promise<CheckOutcome>;
