// AWS adapter (database class): the RDS instances and Aurora clusters of the
// account, as kura selects and configures them: what there is (Aurora members
// are backed up through their cluster) and the automated-backup retention
// that gives point-in-time restore. Decides nothing about policy.
import {
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  paginateDescribeDBClusters,
  paginateDescribeDBInstances,
  RDSClient,
} from '@aws-sdk/client-rds';
import { fromTagList, type TagMap } from '../domain/tags.ts';
import type { Clients } from './clients.ts';

export type DatabaseKind = 'instance' | 'cluster';

export interface Database {
  id: string;
  kind: DatabaseKind;
  arn: string;
  engine: string;
  status: string;
  tags: TagMap;
  backupRetentionDays: number;
  latestRestorableTime?: Date;
  encrypted: boolean;
  kmsKeyId?: string;
}

export async function listDatabases(clients: Clients): Promise<Database[]> {
  const out: Database[] = [];
  for await (const page of paginateDescribeDBInstances({ client: clients.get(RDSClient) }, {})) {
    for (const i of page.DBInstances ?? []) {
      // Aurora members are backed up through their cluster.
      if (i.DBClusterIdentifier) continue;
      out.push({
        id: i.DBInstanceIdentifier ?? '',
        kind: 'instance',
        arn: i.DBInstanceArn ?? '',
        engine: i.Engine ?? '',
        status: i.DBInstanceStatus ?? 'unknown',
        tags: fromTagList(i.TagList),
        backupRetentionDays: i.BackupRetentionPeriod ?? 0,
        latestRestorableTime: i.LatestRestorableTime,
        encrypted: Boolean(i.StorageEncrypted),
        kmsKeyId: i.KmsKeyId,
      });
    }
  }
  for await (const page of paginateDescribeDBClusters({ client: clients.get(RDSClient) }, {})) {
    for (const c of page.DBClusters ?? []) {
      out.push({
        id: c.DBClusterIdentifier ?? '',
        kind: 'cluster',
        arn: c.DBClusterArn ?? '',
        engine: c.Engine ?? '',
        status: c.Status ?? 'unknown',
        tags: fromTagList(c.TagList),
        backupRetentionDays: c.BackupRetentionPeriod ?? 0,
        latestRestorableTime: c.LatestRestorableTime,
        encrypted: Boolean(c.StorageEncrypted),
        kmsKeyId: c.KmsKeyId,
      });
    }
  }
  return out;
}

export async function setBackupRetention(clients: Clients, db: Database, days: number): Promise<void> {
  if (db.kind === 'instance') {
    await clients.get(RDSClient).send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: db.id,
        BackupRetentionPeriod: days,
        ApplyImmediately: true,
      }),
    );
  } else {
    await clients.get(RDSClient).send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: db.id,
        BackupRetentionPeriod: days,
        ApplyImmediately: true,
      }),
    );
  }
}
