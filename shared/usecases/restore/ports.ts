// Use case (orchestrated restore): the ports it receives. The AWS binding is
// built by the composition roots (shared/edge/restore-ports.ts, used by the
// restore Lambda and the CLI); tests pass their own.
import type { BackedUpDatabase } from '../../aws/rds-sources.ts';
import type { Deps } from '../../aws/deps.ts';
import type { IsolatedAccessPort } from '../../aws/isolated-access.ts';
import type { LeftoversPort } from '../../aws/isolated-leftovers.ts';
import type { RdsPitrPort } from '../../aws/rds-pitr.ts';
import type { RestoreStorePort } from '../../aws/restore-store.ts';
import type { FirstPoint } from '../../domain/first-points.ts';
import type { PreflightPorts } from '../../restore/preflight.ts';
import type { Origin } from '../../restore/source-account.ts';
import type { IsolatedTarget, RestoreClass, RestoreListing, RestoreStep } from '../../restore/types.ts';

/**
 * The plan task's ports (also approval and report, which need only the store).
 * Listings, not steps: the restore function that plans carries no class's
 * restore code (each class's items run in their own function).
 */
export interface RestorePlanPorts {
  store: RestoreStorePort;
  /** A class's recovery points. */
  listing(cls: RestoreClass): Promise<RestoreListing>;
  preflight: PreflightPorts;
  /**
   * A source database's (instance, else Aurora cluster) LatestRestorableTime (a rehearsal's
   * PITR RPO), read in its origin (with sources, its own account and source region).
   */
  latestRestorableTime(source: string, origin: Origin): Promise<Date | undefined>;
  /** Read-only connection to the target (pre-flight). */
  connect(deps: Deps): Promise<IsolatedTarget>;
  /** The vault's first-point records (none before the vault exists). */
  firstPoints(): Promise<FirstPoint[]>;
  /** The selected databases, and those named in `gone` that only their kura snapshots remember. */
  backedUpDatabases(gone: string[]): Promise<BackedUpDatabase[]>;
}

/** The item task's ports: the restore steps of the classes its function runs. */
export interface RestoreItemPorts {
  store: RestoreStorePort;
  step(cls: RestoreClass): Promise<RestoreStep>;
  /** The point-in-time path's calls in the source account (the database class's function only). */
  pitr?: RdsPitrPort;
  /** Read-only connection to the target (a resumed item re-checks what it made). */
  connect(deps: Deps): Promise<IsolatedTarget>;
  /** The target with its isolated network and key made ready (creates them on first use). */
  prepareTarget(deps: Deps): Promise<IsolatedTarget & { kmsKeyArn?: string }>;
  /**
   * The on-call route into the target (Session Manager endpoints, jump host, managed password):
   * databases and servers; content and logs are reached through the AWS API alone.
   */
  access?(target: IsolatedTarget): IsolatedAccessPort;
  /** Whether what a finished item made still exists (a resumed restore re-checks). */
  leftovers: Pick<LeftoversPort, 'stillExists'>;
}

export interface RestorePorts extends RestorePlanPorts, RestoreItemPorts {}
