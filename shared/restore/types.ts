// Restore: the contract every backup class implements so that one
// implementation of each restore step serves both state machines
// (validation: restore, check, clean up; restore: restore and keep).
import type { Clients } from '../aws/clients.ts';
import type { Deps } from '../aws/deps.ts';

export type RestoreClass = 'database' | 'image' | 'content' | 'logs';

/** A kura-managed recovery point, small enough to pass between states. */
export interface RecoveryPointRef {
  class: RestoreClass;
  /** The protected thing: DB id, instance id, content source name, "<class>/<host>" for logs. */
  source: string;
  /** Snapshot id, AMI id, generation date, bundle key … */
  id: string;
  /** Scheduled time of the backup (ISO). */
  time: string;
  region: string;
  details?: Record<string, unknown>;
}

/** Where restores go: the isolated account, reached by AssumeRole. */
export interface IsolatedTarget {
  clients: Clients;
  accountId: string;
  region: string;
  network?: { vpcId: string; subnetIds: string[]; securityGroupId: string; dbSubnetGroup?: string };
  /** A bucket in the isolated account for restored content and logs. */
  bucket?: string;
}

/** Something a restore created; enough to find it and to clean it up. */
export interface CreatedResource {
  type: string; // CloudFormation type name, e.g. AWS::RDS::DBInstance
  id: string;
  account: string;
  region: string;
  /** The AWS CLI command that removes it, for the runbook and reports. */
  cleanup: string;
}

export interface RestoredItem {
  class: RestoreClass;
  source: string;
  recoveryPoint: RecoveryPointRef;
  resources: CreatedResource[];
  endpoint?: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
}

/** A class's recovery points without its restore (what planning needs). */
export type RestoreListing = Pick<RestoreStep, 'class' | 'list'>;
/** A class's cleanup alone (the rehearsal's cleanup removes what every class made, restoring nothing). */
export type RestoreCleanup = Pick<RestoreStep, 'class' | 'cleanup'>;

export interface RestoreStep {
  class: RestoreClass;
  /**
   * Recovery points of this class, newest first; `before` picks the closest at or before a time.
   * `range` (logs: days yyyy-mm-dd of one source) asks for the points holding part of that range.
   */
  list(
    deps: Deps,
    opts?: {
      source?: string;
      before?: Date;
      range?: { from: string; to: string };
      /** With sources: the source account the named database or server comes from (database.account; required when ambiguous). */
      account?: string;
      /** With sources: the source region too (a plan's item keyed by account, region and name). */
      sourceRegion?: string;
    },
  ): Promise<RecoveryPointRef[]>;
  restore(
    deps: Deps,
    target: IsolatedTarget,
    rp: RecoveryPointRef,
    opts?: Record<string, unknown>,
  ): Promise<RestoredItem>;
  /** Removes what restore created; idempotent (a resource already gone is fine). */
  cleanup(target: IsolatedTarget, resources: CreatedResource[]): Promise<void>;
}
