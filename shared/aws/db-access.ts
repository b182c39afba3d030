// AWS adapter (validation): how the SQL probes reach a database restored into
// the isolated account, and with which credentials.
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
  /** Verified TLS (on AWS always; the local stand-in databases have no certificate). */
  tls?: boolean;
}

/** Where the restored database answers, and the secret that holds its master credentials. */
export interface ProbeTarget {
  engine: string;
  host: string;
  port: number;
  database?: string;
  user: string;
  /** The RDS-managed secret (Secrets Manager, isolated account) with the fresh master password. */
  secretArn: string;
}

/** How the probe runner reaches the restored database and with which credentials. */
export interface DbAccessPort {
  connection(target: IsolatedAccount, instance: DBInstance): Promise<ProbeTarget>;
}

/**
 * The restored copy's master user with a fresh password that RDS generates and
 * keeps in Secrets Manager in the isolated account (ManageMasterUserPassword):
 * nobody sees it, nothing logs or stores it, and RDS deletes the secret with
 * the copy at cleanup. The source database is never touched.
 */
export class ManagedSecretAccess implements DbAccessPort {
  constructor(private readonly opts: { maxWaitSeconds?: number; pollSeconds?: number } = {}) {}

  async connection(target: IsolatedAccount, instance: DBInstance): Promise<ProbeTarget> {
    const secretArn = await ensureManagedMasterSecret(target, instance, this.opts);
    return {
      engine: instance.Engine ?? '',
      host: instance.Endpoint?.Address ?? '',
      port: instance.Endpoint?.Port ?? (/postgres/.test(instance.Engine ?? '') ? 5432 : 3306),
      user: instance.MasterUsername ?? 'admin',
      database: instance.DBName,
      secretArn,
    };
  }
}

/**
 * Turns on RDS-managed master passwords for a restored copy (an Aurora member:
 * its cluster, which owns the password) and waits until the change is applied;
 * returns the secret's ARN. A copy that already has one keeps it.
 */
export async function ensureManagedMasterSecret(
  target: IsolatedAccount,
  instance: DBInstance,
  opts: { maxWaitSeconds?: number; pollSeconds?: number } = {},
): Promise<string> {
  const rds = target.clients.get(RDSClient, target.region);
  const id = instance.DBInstanceIdentifier ?? '';
  const cluster = instance.DBClusterIdentifier;
  const managed = { ManageMasterUserPassword: true, ApplyImmediately: true };
  const current = cluster
    ? (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: cluster }))).DBClusters?.[0]
        ?.MasterUserSecret
    : instance.MasterUserSecret;
  if (!current?.SecretArn) {
    if (cluster) await rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: cluster, ...managed }));
    else await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, ...managed }));
  }
  const maxWait = opts.maxWaitSeconds ?? 300;
  const timer = target.clients.timer;
  const deadline = timer.now() + maxWait * 1000;
  for (;;) {
    const i = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
    const c = cluster
      ? (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: cluster }))).DBClusters?.[0]
      : undefined;
    const secret = (c ?? i)?.MasterUserSecret;
    const ready =
      i?.DBInstanceStatus === 'available' &&
      (!cluster || c?.Status === 'available') &&
      !!secret?.SecretArn &&
      secret.SecretStatus !== 'creating';
    if (ready && secret?.SecretArn) return secret.SecretArn;
    if (timer.now() > deadline)
      throw new Error(`the managed master password of ${cluster ?? id} was not in place within ${maxWait}s`);
    await timer.sleep((opts.pollSeconds ?? 10) * 1000);
  }
}
