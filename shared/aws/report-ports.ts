// AWS ports: what the inventory, the orphan finders and the reports read.
// Read only. The use cases receive them; the CLI (shared/edge/report-ports.ts)
// and the tests build them from a run's Deps (the adapters named beside each).
import type { ApiRule } from '../domain/lifecycle/report.ts';
import type { CopyEvidence } from '../domain/reports/compliance.ts';
import type { VaultConfig } from '../domain/reports/vault-drift.ts';
import type { SourceTarget } from '../domain/source-target.ts';
import type { ImagePort } from './ec2-images.ts';
import type { FirstPointLedger } from './first-points.ts';
import type { LogStorePort } from './log-store.ts';
import type { DatabasePort } from './rds.ts';
import type { PitrWindow } from './rds-pitr.ts';
import type { VaultContent } from './content-generations.ts';
import type { BackedUpDatabase } from './rds-sources.ts';
import type { RestoreStorePort } from './restore-store.ts';
import type { SnapshotVolume, StoredVersion } from './vault-config.ts';

/** The source account's estate and kura's recovery points in it (RdsAdapter, Ec2ImageAdapter, S3LogStore). */
export interface EstatePorts {
  databases: Pick<DatabasePort, 'listDatabases' | 'listSnapshots'>;
  /** The selected databases, and those named in `gone` that only their kura snapshots remember (rds-sources.ts). */
  backedUpDatabases(gone?: string[]): Promise<BackedUpDatabase[]>;
  images: Pick<ImagePort, 'listInstances' | 'listImages' | 'listManagedImages' | 'listManagedSnapshots'>;
  /**
   * With sources: kura's images in each source account and region (the ones
   * images.keepInSource leaves there), read through its kura-source role.
   */
  sourceImages?: { target: SourceTarget; images: Pick<ImagePort, 'listManagedImages'> }[];
  /** Objects in the vault and the log landing bucket. */
  objects: Pick<LogStorePort, 'list' | 'read' | 'head'>;
  /** The vault's content generations (content-generations.ts). */
  content: VaultContent;
}

/** The inventory report's reads: the estate plus the vault's records. */
export interface InventoryReportPorts extends EstatePorts {
  /** A database instance's point-in-time window (rds-pitr.ts). */
  pitrWindow(instance: string): Promise<PitrWindow | undefined>;
  /** The first-point records (S3FirstPointLedger). */
  firstPoints: Pick<FirstPointLedger, 'readAll'>;
  /** The validation reports in the vault, in run order (validation-reports.ts). */
  validationReports(): Promise<{ key: string; body: string }[]>;
}

/** The lifecycle report's reads: the vault's real configuration and volume, the snapshots' sizes (vault-config.ts). */
export interface LifecycleReportPorts {
  /** The rules S3 really applies to the vault (bucket-lifecycle.ts); `exists: false` when there is no vault. */
  bucketLifecycle(): Promise<{ exists: boolean; rules?: ApiRule[] }>;
  /** Versioning, Object Lock, encryption and the other protections as S3 reports them. */
  vaultConfig(): Promise<VaultConfig>;
  /** Every object version in the vault. */
  vaultVersions(): AsyncIterable<StoredVersion>;
  /** kura's database snapshots in the given regions, with their allocated storage. */
  databaseSnapshotVolumes(regions: string[]): Promise<SnapshotVolume[]>;
  /** kura's image snapshots in the given regions. */
  imageSnapshotVolumes(regions: string[]): Promise<SnapshotVolume[]>;
}

/** The compliance report's reads: the inventory and lifecycle reports' plus the isolated account's access and the restores. */
export interface ComplianceReportPorts extends InventoryReportPorts, LifecycleReportPorts {
  /** Whether the isolated account can use each recovery point (recovery-point-access.ts). */
  recoveryPointAccess(databases: { id: string; kind: 'instance' | 'cluster' }[]): Promise<CopyEvidence[]>;
  /** The orchestrated restores recorded in the vault (S3RestoreStore). */
  restores: Pick<RestoreStorePort, 'list' | 'get'>;
  /** The yearly rehearsal reports, their own hash chain beside the monthly one (validation-reports.ts). */
  rehearsalReports(): Promise<{ key: string; body: string }[]>;
}
