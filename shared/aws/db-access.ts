// AWS adapter (validation): how the SQL probes reach a database restored into
// the isolated account, and with which credentials.
import { randomBytes } from 'node:crypto';
import {
  type DBInstance,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import type { Clients } from './clients.ts';

/** The isolated account as the adapters need it: its clients (an assumed role) and the region. */
export interface IsolatedAccount {
  clients: Clients;
  region: string;
}

export interface ProbeConnection {
  engine: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database?: string;
}

/** How the probe reaches the restored database and with which credentials. */
export interface DbAccessPort {
  connection(target: IsolatedAccount, instance: DBInstance): Promise<ProbeConnection>;
}

/**
 * The restored copy's master user, with a fresh random password set on it in
 * the isolated account (the copy is thrown away at cleanup; the source is
 * never touched). Nothing stores the password.
 */
export class MasterPasswordAccess implements DbAccessPort {
  constructor(private readonly opts: { maxWaitSeconds?: number; pollSeconds?: number } = {}) {}

  async connection(target: IsolatedAccount, instance: DBInstance): Promise<ProbeConnection> {
    const rds = target.clients.get(RDSClient, target.region);
    const id = instance.DBInstanceIdentifier ?? '';
    const password = randomBytes(18).toString('base64url');
    // An Aurora member has no password of its own: the cluster's master password is set.
    const cluster = instance.DBClusterIdentifier;
    if (cluster) {
      await rds.send(
        new ModifyDBClusterCommand({
          DBClusterIdentifier: cluster,
          MasterUserPassword: password,
          ApplyImmediately: true,
        }),
      );
    } else {
      await rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: id,
          MasterUserPassword: password,
          ApplyImmediately: true,
        }),
      );
    }
    const timer = target.clients.timer;
    const deadline = timer.now() + (this.opts.maxWaitSeconds ?? 300) * 1000;
    for (;;) {
      const i = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })))
        .DBInstances?.[0];
      const c = cluster
        ? (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: cluster }))).DBClusters?.[0]
        : undefined;
      const clusterReady =
        !cluster || (c?.Status === 'available' && !c.PendingModifiedValues?.MasterUserPassword);
      if (i?.DBInstanceStatus === 'available' && !i.PendingModifiedValues?.MasterUserPassword && clusterReady)
        break;
      if (timer.now() > deadline)
        throw new Error(
          `the new master password of ${id} was not applied within ${this.opts.maxWaitSeconds ?? 300}s`,
        );
      await timer.sleep((this.opts.pollSeconds ?? 10) * 1000);
    }
    return {
      engine: instance.Engine ?? '',
      host: instance.Endpoint?.Address ?? '',
      port: instance.Endpoint?.Port ?? 3306,
      user: instance.MasterUsername ?? 'admin',
      password,
      database: instance.DBName,
    };
  }
}
