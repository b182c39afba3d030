// CLI composition: the adapters behind the reports' ports, built from a
// command's Deps. The use cases (inventory, orphans, the inventory and
// compliance reports) receive these and construct no adapter themselves.
import type { Deps } from '../aws/deps.ts';
import { Ec2ImageAdapter } from '../aws/ec2-images.ts';
import { S3FirstPointLedger } from '../aws/first-points.ts';
import { S3ContentAdapter } from '../aws/content.ts';
import { vaultContent } from '../aws/content-generations.ts';
import { S3LogStore } from '../aws/log-store.ts';
import { RdsAdapter } from '../aws/rds.ts';
import { pitrWindow } from '../aws/rds-pitr.ts';
import { backedUpDatabases } from '../aws/rds-sources.ts';
import { recoveryPointAccess } from '../aws/recovery-point-access.ts';
import { readBucketLifecycle } from '../aws/bucket-lifecycle.ts';
import type { ComplianceReportPorts, EstatePorts, LifecycleReportPorts } from '../aws/report-ports.ts';
import { S3RestoreStore } from '../aws/restore-store.ts';
import { listRehearsalReports, listReports } from '../aws/validation-reports.ts';
import {
  databaseSnapshotVolumes,
  imageSnapshotVolumes,
  readVaultConfig,
  vaultVersions,
} from '../aws/vault-config.ts';

export function estatePorts({ policy, clients }: Deps): EstatePorts {
  return {
    databases: new RdsAdapter(clients),
    backedUpDatabases: (gone) => backedUpDatabases(clients, policy, gone),
    images: new Ec2ImageAdapter(clients),
    objects: new S3LogStore(clients),
    content: vaultContent(new S3ContentAdapter(clients), policy),
  };
}

/** The lifecycle report's reads of the vault and the snapshots. */
export function lifecyclePorts({ policy, clients }: Deps): LifecycleReportPorts {
  return {
    bucketLifecycle: () => readBucketLifecycle(clients, policy.vault.bucket),
    vaultConfig: () => readVaultConfig(clients, policy),
    vaultVersions: () => vaultVersions(clients, policy.vault.bucket),
    databaseSnapshotVolumes: (regions) => databaseSnapshotVolumes(clients, regions),
    imageSnapshotVolumes: (regions) => imageSnapshotVolumes(clients, regions),
  };
}

/** Every report's ports (the compliance report's are a superset of the inventory report's). */
export function reportPorts(deps: Deps): ComplianceReportPorts {
  const { policy, clients } = deps;
  return {
    ...estatePorts(deps),
    ...lifecyclePorts(deps),
    pitrWindow: (instance) => pitrWindow(clients, instance),
    firstPoints: new S3FirstPointLedger(clients, policy),
    validationReports: () => listReports(deps),
    recoveryPointAccess: (databases) => recoveryPointAccess(clients, policy, databases),
    restores: new S3RestoreStore(clients, policy.vault.bucket),
    rehearsalReports: () => listRehearsalReports(deps),
  };
}
