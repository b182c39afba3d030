// AWS adapter: the one place the restore steps' adapters are made. Each step
// receives its ports from here (bound in shared/edge/restore-steps.ts), made from the clients
// of the account it acts in: the source account's for snapshots and images,
// the isolated account's (AssumeRole) for what a restore creates.
import type { Policy } from '../policy/schema.ts';
import type { Clients } from './clients.ts';
import type { Deps } from './deps.ts';
import { type RestoreStorePort, vaultRestoreStore } from './restore-store.ts';
import { S3RecordStore, type RecordStore } from './config-records.ts';
import { type ContentPort, S3ContentAdapter } from './content.ts';
import { type VaultContent, vaultContent } from './content-generations.ts';
import { Ec2ImageAdapter, type ImagePort, listManagedImages } from './ec2-images.ts';
import { listInstances } from './ec2-instances.ts';
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
import { ensureIsolatedNetwork, type IsolatedNetwork, isolationFindings } from './isolated-network.ts';
import { ensureIsolatedBucket, ensureIsolatedKey } from './isolated-storage.ts';
import { type KeyPort, KmsAdapter } from './kms.ts';
import { type LogSink, S3Sink } from './log-sinks.ts';
import { type LogStorePort, S3LogStore } from './log-store.ts';
import { logSeals, type SealPort } from './seals.ts';
import { type DatabaseKind, listSnapshots, RdsAdapter } from './rds.ts';
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

/**
 * What a restore makes ready in the isolated account before it runs
 * (shared/restore/isolated-network.ts): the key always; the network for the
 * classes that launch into it (database, image), the bucket for those that
 * write objects (content, logs). Each class's function gets only its own, so
 * that a content restore carries no EC2 or RDS client.
 */
export interface TargetInfraPort {
  network?(clients: Clients, region: string): Promise<IsolatedNetwork>;
  key(clients: Clients, region: string): Promise<string>;
  bucket?(clients: Clients, accountId: string, region: string): Promise<string>;
}

const network = (clients: Clients, region: string) => ensureIsolatedNetwork(clients, region);
const key = (clients: Clients, region: string) => ensureIsolatedKey(clients, region);
const isolatedBucket = (clients: Clients, accountId: string, region: string) =>
  ensureIsolatedBucket(clients, accountId, region);

/** Every class's infrastructure (the validation plan, the CLI, tests). */
export const awsTargetInfra: Required<TargetInfraPort> = {
  network,
  key,
  bucket: isolatedBucket,
};

/** The databases' and servers' infrastructure: the network they launch into, and the key. */
export const networkTargetInfra: TargetInfraPort = { network, key };
export const bucketTargetInfra: TargetInfraPort = { key, bucket: isolatedBucket };

export interface DatabaseRestorePorts extends IsolatedInfraPort {
  /** The selected databases, and those named in `gone` that only their kura snapshots remember (rds-sources.ts). */
  backedUpDatabases(deps: Deps, gone: string[]): Promise<BackedUpDatabase[]>;
  snapshots(clients: Clients): SourceSnapshotPort;
  keys(clients: Clients): KeyPort;
  rds(clients: Clients, region: string): RdsRestorePort;
}

// Named functions, not a shared object spread into each port (nor one read by
// property): a bundler keeps an object built by a spread (it may run getters),
// and with it every adapter of every class (RDS and EC2 in the content
// restore's bundle).
const snapshots = (clients: Clients) => new RdsAdapter(clients);
const databases = (deps: Deps, gone: string[]) => backedUpDatabases(deps.clients, deps.policy, gone);
const images = (clients: Clients) => new Ec2ImageAdapter(clients);
const content = (clients: Clients, region?: string) => new S3ContentAdapter(clients, region);
const vault = (clients: Clients, policy: Policy) => vaultContent(new S3ContentAdapter(clients), policy);
const logs = (clients: Clients) => new S3LogStore(clients);

/**
 * What the plan's listings read (shared/edge/restore-listings.ts): reads only,
 * as functions (an adapter class keeps every command it can send, and with them
 * their SDK schemas: the image backup's and the snapshot writes in the plan's bundle).
 */
export const awsListingPorts = {
  snapshots: (clients: Clients) => ({
    listSnapshots: (kind: DatabaseKind, source: string, region?: string) =>
      listSnapshots(clients, kind, source, region),
  }),
  backedUpDatabases: databases,
  images: (clients: Clients) => ({
    listInstances: () => listInstances(clients),
    listManagedImages: (region?: string) => listManagedImages(clients, region),
  }),
  vault,
  logs,
};

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
  /** Content objects where `clients` act: the isolated bucket (a restore's target and its cleanup). */
  content(clients: Clients, region?: string): ContentPort;
  /** The vault's content (source account): its objects and generations. */
  vault(clients: Clients, policy: Policy): VaultContent;
  /** Where a whole-generation restore records its shards' progress (restores/<id>/ in the vault). */
  progress?(clients: Clients, policy: Policy): RestoreStorePort;
}

export const awsContentRestorePorts: ContentRestorePorts = {
  content,
  vault,
  progress: (clients, policy) => vaultRestoreStore(clients, policy),
};

export interface LogsRestorePorts {
  /** Log objects where `clients` act: the vault (source account) or the isolated bucket. */
  logs(clients: Clients): LogStorePort;
  /** Where a day range's restored files are written in the isolated bucket. */
  sink(clients: Clients, bucket: string, prefix: string): LogSink;
  /** The seals of the vault's log records (bundle manifests), read through `store`. */
  seals(store: LogStorePort, bucket: string): Pick<SealPort, 'check'>;
}

export const awsLogsRestorePorts: LogsRestorePorts = {
  logs,
  sink: (clients, bucket, prefix) => new S3Sink(clients, bucket, prefix),
  seals: logSeals,
};

/** The on-call route into the isolated account where `clients` act (shared/restore/access.ts). */
export const awsIsolatedAccess = (clients: Clients, region: string): IsolatedAccessPort =>
  new AwsIsolatedAccess(clients, region);
