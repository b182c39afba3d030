// Validation checks: what every class's check receives and returns. A check
// looks at what a restore step produced in the isolated account and says,
// per property, pass or fail with a reason a person can act on. It reads AWS
// only through its adapters (CheckAdapters), which the edge builds.

import type { DbAccessPort } from '../../aws/db-access.ts';
import type { Deps } from '../../aws/deps.ts';
import type { InstanceView } from '../../aws/isolated-account.ts';
import type { describeDbCluster, describeDbInstance } from '../../aws/rds-restore.ts';
import type { ManifestEntry } from '../../domain/content.ts';
import type { CheckResult } from '../../domain/validation-report.ts';
import type { IsolatedTarget, RestoredItem } from '../../restore/types.ts';
import type { ProbeRequest, ProbeResponse } from '../probe-runner.ts';

/** The SQL probe runner inside the isolated network (the isolated account's function). */
export interface ProbeRunnerPort {
  run(target: IsolatedTarget, request: ProbeRequest): Promise<ProbeResponse>;
}

/** Everything the checks read AWS (and the restored databases) through. */
export interface CheckAdapters {
  /** The probe runner inside the isolated network (invoked through the isolated role). */
  probeRunner: ProbeRunnerPort;
  dbAccess: DbAccessPort;
  /** Streams an object's bytes from the isolated account (content and logs checks). */
  readObject: (target: IsolatedTarget, bucket: string, key: string) => AsyncIterable<Uint8Array>;
  /** Every key under a prefix of a bucket in the isolated account. */
  listKeys: (target: IsolatedTarget, bucket: string, prefix: string) => Promise<string[]>;
  /** The manifest of a content generation in the vault (undefined when it has none). */
  contentManifest: (source: string, generation: string) => Promise<ManifestEntry[] | undefined>;
  /**
   * The validation machine's verify of a whole content generation in the vault (its
   * Distributed Map, one child per shard): shards done, objects re-read, failures.
   */
  contentVerified: (runId: string, source: string, generation: string) => Promise<ContentVerified>;
  /** State, status checks and placement of instances in the isolated account. */
  describeInstances: (target: IsolatedTarget, ids: string[]) => Promise<InstanceView[]>;
  /** A restored DB instance in the isolated account (undefined when it does not exist). */
  describeDatabase: (target: IsolatedTarget, id: string) => ReturnType<typeof describeDbInstance>;
  /** A restored Aurora cluster in the isolated account (undefined when it does not exist). */
  describeCluster: (target: IsolatedTarget, id: string) => ReturnType<typeof describeDbCluster>;
}

/** Adapters a caller replaces; tests point them at a stand-in or inject a fault. */
export type CheckPorts = Partial<CheckAdapters>;

// What each class's check reads through: a class's function (functions/validation-<class>)
// builds these only, so that its bundle carries no other class's clients.
export type DatabaseCheckAdapters = Pick<
  CheckAdapters,
  'probeRunner' | 'dbAccess' | 'describeDatabase' | 'describeCluster'
>;
export type ImageCheckAdapters = Pick<CheckAdapters, 'describeInstances'>;
export type ContentCheckAdapters = Pick<
  CheckAdapters,
  'readObject' | 'listKeys' | 'contentManifest' | 'contentVerified'
>;
export type LogsCheckAdapters = Pick<CheckAdapters, 'readObject'>;

export interface ContentVerified {
  shards: number;
  done: number;
  objects: number;
  failureCount: number;
  failures: { key: string; problem: string }[];
}

export interface CheckContext<P = CheckAdapters> {
  deps: Deps;
  /** The validation run (its content verify records are under its id). */
  runId?: string;
  target: IsolatedTarget;
  /** The run's scheduled time. */
  now: Date;
  ports: P;
}

export interface CheckOutcome {
  checks: CheckResult[];
  /** Minutes of data the recovery point does not hold, when the check can tell. */
  achievedRpoMinutes?: number;
}

export type ClassCheck<P = CheckAdapters> = (
  ctx: CheckContext<P>,
  item: RestoredItem,
) => Promise<CheckOutcome>;
