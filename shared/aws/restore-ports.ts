// AWS adapter: the one place the restore steps' adapters are made. Each step
// receives its ports from here (through run-steps.ts), made from the clients
// of the account it acts in: the source account's for snapshots and images,
// the isolated account's (AssumeRole) for what a restore creates.
import type { Policy } from '../policy/schema.ts';
import type { Clients } from './clients.ts';
import type { Deps } from './deps.ts';
import { type RestoreStorePort, vaultRestoreStore } from './restore-store.ts';
import { S3RecordStore, type RecordStore } from './config-records.ts';
import { type ContentPort, S3ContentAdapter } from './content.ts';
import { Ec2ImageAdapter, type ImagePort } from './ec2-images.ts';
import { AwsIsolatedAccess, type IsolatedAccessPort } from './isolated-access.ts';
import {
  describeIsolatedInstance,
  findInstancesByTags,
  type IsolatedInstance,
  type IsolatedLaunch,
  ingressRuleCount,
  launchIsolated,
  terminateInstance,
} from './isolated-instances.ts';
import { ensureIsolatedNetwork, isolationFindings } from './isolated-network.ts';
import { ensureIsolatedKey } from './isolated-storage.ts';
import { type KeyPort, KmsAdapter } from './kms.ts';
import { type LogSink, S3Sink } from './log-sinks.ts';
import { type LogStorePort, S3LogStore } from './log-store.ts';
import { RdsAdapter } from './rds.ts';
import { RdsRestoreAdapter, type RdsRestorePort } from './rds-restore.ts';
import { type BackedUpDatabase, backedUpDatabases } from './rds-sources.ts';

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
  /** The selected databases, and those named in `gone` that only their kura snapshots remember (rds-sources.ts). */
  backedUpDatabases(deps: Deps, gone: string[]): Promise<BackedUpDatabase[]>;
  snapshots(clients: Clients): SourceSnapshotPort;
  keys(clients: Clients): KeyPort;
  rds(clients: Clients, region: string): RdsRestorePort;
}

// Named functions, not a shared object spread into each port: a bundler keeps
// an object built by a spread (it may run getters), and with it every adapter
// of every class (RDS and EC2 in the content restore's bundle).
const network: IsolatedInfraPort['network'] = (clients, region) => ensureIsolatedNetwork(clients, region);
const key: IsolatedInfraPort['key'] = (clients, region) => ensureIsolatedKey(clients, region);
const snapshots = (clients: Clients) => new RdsAdapter(clients);
const databases = (deps: Deps, gone: string[]) => backedUpDatabases(deps.clients, deps.policy, gone);
const images = (clients: Clients) => new Ec2ImageAdapter(clients);
const content = (clients: Clients, region?: string) => new S3ContentAdapter(clients, region);
const logs = (clients: Clients) => new S3LogStore(clients);

/** What the plan's listings read (shared/edge/restore-listings.ts): no class's restore adapters. */
export const awsListingPorts = { snapshots, backedUpDatabases: databases, images, content, logs };

export const awsDatabaseRestorePorts: DatabaseRestorePorts = {
  network,
  key,
  backedUpDatabases: databases,
  snapshots,
  keys: (clients) => new KmsAdapter(clients),
  rds: (clients, region) => new RdsRestoreAdapter(clients, region),
};

/** The isolated account's instances and network, as the image step checks, launches and removes them. */
export interface IsolatedInstancesPort {
  /** What makes the VPC not isolated (a route out, an internet gateway, …); empty when it is. */
  isolationFindings(vpcId: string, region?: string): Promise<string[]>;
  ingressRuleCount(securityGroupId: string, region?: string): Promise<number>;
  findByTags(tags: Record<string, string>, region?: string): Promise<IsolatedInstance[]>;
  describe(id: string, region?: string): Promise<IsolatedInstance | undefined>;
  launch(launch: IsolatedLaunch, region?: string): Promise<string>;
  terminate(id: string, region?: string): Promise<void>;
}

export interface ImageRestorePorts extends IsolatedInfraPort {
  /** The source account's images (listed, checked, shared with the isolated account). */
  images(
    clients: Clients,
  ): Pick<ImagePort, 'listInstances' | 'listManagedImages' | 'getImage' | 'shareImage'>;
  keys(clients: Clients): KeyPort;
  /** The configuration records in the vault. */
  records(clients: Clients, bucket: string): Pick<RecordStore, 'get'>;
  instances(clients: Clients): IsolatedInstancesPort;
}

export const awsImageRestorePorts: ImageRestorePorts = {
  network,
  key,
  images,
  keys: (clients) => new KmsAdapter(clients),
  records: (clients, bucket) => new S3RecordStore(clients, bucket),
  instances: (clients) => ({
    isolationFindings: (vpcId, region) => isolationFindings(clients, vpcId, region),
    ingressRuleCount: (group, region) => ingressRuleCount(clients, group, region),
    findByTags: (tags, region) => findInstancesByTags(clients, tags, region),
    describe: (id, region) => describeIsolatedInstance(clients, id, region),
    launch: (launch, region) => launchIsolated(clients, launch, region),
    terminate: (id, region) => terminateInstance(clients, id, region),
  }),
};

export interface ContentRestorePorts {
  /** Content objects where `clients` act: the vault (source account) or the isolated bucket. */
  content(clients: Clients, region?: string): ContentPort;
  /** Where a whole-generation restore records its shards' progress (restores/<id>/ in the vault). */
  progress?(clients: Clients, policy: Policy): RestoreStorePort;
}

export const awsContentRestorePorts: ContentRestorePorts = {
  content,
  progress: (clients, policy) => vaultRestoreStore(clients, policy),
};

export interface LogsRestorePorts {
  /** Log objects where `clients` act: the vault (source account) or the isolated bucket. */
  logs(clients: Clients): LogStorePort;
  /** Where a day range's restored files are written in the isolated bucket. */
  sink(clients: Clients, bucket: string, prefix: string): LogSink;
}

export const awsLogsRestorePorts: LogsRestorePorts = {
  logs,
  sink: (clients, bucket, prefix) => new S3Sink(clients, bucket, prefix),
};

/** The on-call route into the isolated account where `clients` act (shared/restore/access.ts). */
export const awsIsolatedAccess = (clients: Clients, region: string): IsolatedAccessPort =>
  new AwsIsolatedAccess(clients, region);
