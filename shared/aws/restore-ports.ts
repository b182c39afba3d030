// AWS adapter: the one place the restore steps' adapters are made. Each step
// receives its ports from here (through run-steps.ts), made from the clients
// of the account it acts in: the source account's for snapshots and images,
// the isolated account's (AssumeRole) for what a restore creates.
import type { Clients } from './clients.ts';
import { ensureIsolatedKey, ensureIsolatedNetwork } from './isolated-network.ts';
import { type KeyPort, KmsAdapter } from './kms.ts';
import { RdsAdapter } from './rds.ts';
import { RdsRestoreAdapter, type RdsRestorePort } from './rds-restore.ts';

/** The source account's snapshots and who they are shared with. */
export type SourceSnapshotPort = Pick<
  RdsAdapter,
  'listDatabases' | 'listSnapshots' | 'getSnapshot' | 'sharedWith' | 'shareSnapshot' | 'unshareSnapshot'
>;

/** The isolated network restores go into, as a restore step needs it. */
export interface IsolatedNetworkRef {
  vpcId: string;
  subnetIds: string[];
  securityGroupId: string;
  dbSecurityGroupId?: string;
  dbSubnetGroup?: string;
}

/** The isolated account's long-lived infrastructure, found or made. */
export interface IsolatedInfraPort {
  network(clients: Clients, region: string): Promise<IsolatedNetworkRef>;
  key(clients: Clients, region: string): Promise<string>;
}

export interface DatabaseRestorePorts extends IsolatedInfraPort {
  snapshots(clients: Clients): SourceSnapshotPort;
  keys(clients: Clients): KeyPort;
  rds(clients: Clients, region: string): RdsRestorePort;
}

const isolatedInfra: IsolatedInfraPort = {
  network: (clients, region) => ensureIsolatedNetwork(clients, region),
  key: (clients, region) => ensureIsolatedKey(clients, region),
};

export const awsDatabaseRestorePorts: DatabaseRestorePorts = {
  ...isolatedInfra,
  snapshots: (clients) => new RdsAdapter(clients),
  keys: (clients) => new KmsAdapter(clients),
  rds: (clients, region) => new RdsRestoreAdapter(clients, region),
};
