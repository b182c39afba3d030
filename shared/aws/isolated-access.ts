// AWS adapter: the EC2 and RDS calls of the on-call route into the isolated
// account (shared/restore/access.ts says what the route is and how people
// use it). Session Manager interface endpoints behind a group that admits
// 443 from inside the VPC only, an access group with egress to them and to
// the databases only, a jump host per restore, a restored server joining the
// route, and a restored database's master password kept by RDS in Secrets
// Manager. Refusals are classified by errors.ts.
import {
  AssociateIamInstanceProfileCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateVpcEndpointCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { TAG } from '../domain/tags.ts';
import { NotReadyError } from '../runtime/errors.ts';
import type { Clients } from './clients.ts';
import { isAwsError } from './errors.ts';
import { ensureSecurityGroup, NETWORK_ROLE, ROLE_TAG, RUN_TAG } from './isolated-network.ts';

import { ACCESS_PROFILE, ACCESS_SERVICES, JUMP_IMAGE_NAME, PURPOSE_TAG } from '../domain/isolated-account.ts';

export { ACCESS_PROFILE, ACCESS_SERVICES, JUMP_IMAGE_NAME, PURPOSE_TAG };
const ENDPOINTS_GROUP = 'kura-isolated-endpoints';
const ACCESS_GROUP = 'kura-isolated-access';
const DB_PORTS = [3306, 5432];
const JUMP_TYPE = 't4g.nano';

/** The isolated network as the route needs it. */
export interface AccessNetwork {
  vpcId: string;
  subnetIds: string[];
  dbSecurityGroupId?: string;
}

export interface ManagedPassword {
  user: string;
  secretArn: string;
  endpoint?: string;
  port?: number;
  database?: string;
}

export interface IsolatedAccessPort {
  /** The Session Manager endpoints and the route's two groups, found or created once; the access group's id. */
  ensureRoute(network: AccessNetwork): Promise<string>;
  /** The restored database's master user and its RDS-managed secret (asked for on first use); NotReadyError while it is not available. */
  managedPassword(db: { instance: string; cluster?: string }): Promise<ManagedPassword>;
  /** The run's jump host, found by its tags (a resumed restore reuses it) or launched; else what is missing. */
  ensureJumpHost(
    network: AccessNetwork,
    accessGroup: string,
    requestId: string,
  ): Promise<{ id: string } | { missing: 'image' | 'profile' }>;
  /** A restored server joins the route: the access group and the access profile. */
  openServer(instanceId: string, accessGroup: string): Promise<'open' | 'gone' | 'profile-missing'>;
}

/** EC2's answer to a launch or an association naming an instance profile that does not exist. */
const profileMissing = (err: unknown) =>
  isAwsError(err, 'invalidParameter') && /iamInstanceProfile/.test((err as Error).message);

const accessTags = (name: string, extra: Record<string, string> = {}) =>
  Object.entries({
    Name: name,
    [TAG.managed]: 'true',
    [TAG.class]: 'restore',
    [ROLE_TAG]: NETWORK_ROLE,
    [PURPOSE_TAG]: 'access',
    ...extra,
  }).map(([Key, Value]) => ({ Key, Value }));

export class AwsIsolatedAccess implements IsolatedAccessPort {
  constructor(
    private readonly clients: Clients,
    private readonly region: string,
  ) {}

  private get ec2(): EC2Client {
    return this.clients.get(EC2Client, this.region);
  }

  private async vpcCidr(vpcId: string): Promise<string> {
    const v = await this.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
    return v.Vpcs?.[0]?.CidrBlock ?? '10.213.0.0/16';
  }

  /** A group of the route: found by name, or created (no egress, tagged as access) with exactly its rules. */
  private async ensureGroup(
    vpcId: string,
    name: string,
    description: string,
    rules: (id: string) => Promise<void>,
  ): Promise<string> {
    const g = await ensureSecurityGroup(this.ec2, vpcId, name, description, [
      { Key: PURPOSE_TAG, Value: 'access' },
    ]);
    if (g.created) await rules(g.id);
    return g.id;
  }

  async ensureRoute(network: AccessNetwork): Promise<string> {
    const ec2 = this.ec2;
    const cidr = await this.vpcCidr(network.vpcId);
    const endpointsGroup = await this.ensureGroup(
      network.vpcId,
      ENDPOINTS_GROUP,
      'kura isolated access: Session Manager endpoints, 443 from inside the VPC only',
      async (id) => {
        await ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: id,
            IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: cidr }] }],
          }),
        );
      },
    );
    const accessGroup = await this.ensureGroup(
      network.vpcId,
      ACCESS_GROUP,
      'kura isolated access: to the Session Manager endpoints and the databases, nothing else',
      async (id) => {
        await ec2.send(
          new AuthorizeSecurityGroupEgressCommand({
            GroupId: id,
            IpPermissions: [
              { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: cidr }] },
              ...DB_PORTS.map((p) => ({
                IpProtocol: 'tcp',
                FromPort: p,
                ToPort: p,
                UserIdGroupPairs: [{ GroupId: network.dbSecurityGroupId }],
              })),
            ],
          }),
        );
      },
    );
    const existing = await ec2.send(
      new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [network.vpcId] }] }),
    );
    for (const service of ACCESS_SERVICES) {
      const name = `com.amazonaws.${this.region}.${service}`;
      const there = (existing.VpcEndpoints ?? []).some(
        (e) => e.ServiceName === name && !/^delet/i.test(e.State ?? ''),
      );
      if (there) continue;
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: network.vpcId,
          ServiceName: name,
          VpcEndpointType: 'Interface',
          // One zone: the route is for people, not for availability, and each zone is billed.
          SubnetIds: network.subnetIds.slice(0, 1),
          SecurityGroupIds: [endpointsGroup],
          PrivateDnsEnabled: true,
          TagSpecifications: [{ ResourceType: 'vpc-endpoint', Tags: accessTags(`kura-isolated-${service}`) }],
        }),
      );
    }
    return accessGroup;
  }

  async managedPassword(db: { instance: string; cluster?: string }): Promise<ManagedPassword> {
    const rds = this.clients.get(RDSClient, this.region);
    const inst = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: db.instance })))
      .DBInstances?.[0];
    if (!inst) throw new Error(`${db.instance} does not exist in the isolated account`);
    const where = { endpoint: inst.Endpoint?.Address, port: inst.Endpoint?.Port, database: inst.DBName };
    // An Aurora member has no password of its own: its cluster's is the one.
    const cluster = db.cluster
      ? (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: db.cluster }))).DBClusters?.[0]
      : undefined;
    const owner = cluster ?? inst;
    const user = owner.MasterUsername ?? 'admin';
    if (owner.MasterUserSecret?.SecretArn)
      return { user, secretArn: owner.MasterUserSecret.SecretArn, ...where };
    const status = cluster ? cluster.Status : inst.DBInstanceStatus;
    if (status !== 'available') throw new NotReadyError(`${db.cluster ?? db.instance} is ${status}`);
    const managed = { ManageMasterUserPassword: true, ApplyImmediately: true };
    const secret = db.cluster
      ? (await rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: db.cluster, ...managed })))
          .DBCluster?.MasterUserSecret
      : (await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: db.instance, ...managed })))
          .DBInstance?.MasterUserSecret;
    return { user, secretArn: secret?.SecretArn ?? '', ...where };
  }

  private async jumpImage(): Promise<string | undefined> {
    const r = await this.ec2.send(
      new DescribeImagesCommand({
        Owners: ['amazon'],
        Filters: [
          { Name: 'name', Values: [JUMP_IMAGE_NAME] },
          { Name: 'state', Values: ['available'] },
        ],
      }),
    );
    return (r.Images ?? []).sort(
      (a, b) =>
        (b.CreationDate ?? '').localeCompare(a.CreationDate ?? '') ||
        (b.Name ?? '').localeCompare(a.Name ?? ''),
    )[0]?.ImageId;
  }

  async ensureJumpHost(
    network: AccessNetwork,
    accessGroup: string,
    requestId: string,
  ): Promise<{ id: string } | { missing: 'image' | 'profile' }> {
    const ec2 = this.ec2;
    const found = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${RUN_TAG}`, Values: [requestId] },
          { Name: `tag:${PURPOSE_TAG}`, Values: ['access-host'] },
          { Name: 'instance-state-name', Values: ['pending', 'running'] },
        ],
      }),
    );
    const there = found.Reservations?.flatMap((r) => r.Instances ?? [])[0]?.InstanceId;
    if (there) return { id: there };
    const image = await this.jumpImage();
    if (!image) return { missing: 'image' };
    const tags = [
      ...accessTags(`kura-access-${requestId}`, {
        [RUN_TAG]: requestId,
        [PURPOSE_TAG]: 'access-host',
      }).filter((t) => t.Key !== ROLE_TAG),
    ];
    try {
      const r = await ec2.send(
        new RunInstancesCommand({
          ImageId: image,
          InstanceType: JUMP_TYPE,
          MinCount: 1,
          MaxCount: 1,
          SubnetId: network.subnetIds[0],
          SecurityGroupIds: [network.dbSecurityGroupId, accessGroup].filter((g): g is string => Boolean(g)),
          IamInstanceProfile: { Name: ACCESS_PROFILE },
          MetadataOptions: { HttpTokens: 'required' },
          ClientToken: `kura-access-${requestId}`.slice(0, 64),
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tags },
            { ResourceType: 'volume', Tags: tags },
          ],
        }),
      );
      const id = r.Instances?.[0]?.InstanceId;
      if (!id) throw new Error(`RunInstances answered without an instance for the jump host of ${requestId}`);
      return { id };
    } catch (err) {
      if (profileMissing(err)) return { missing: 'profile' };
      throw err;
    }
  }

  async openServer(instanceId: string, accessGroup: string): Promise<'open' | 'gone' | 'profile-missing'> {
    const ec2 = this.ec2;
    const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })))
      .Reservations?.[0]?.Instances?.[0];
    if (!inst) return 'gone';
    const groups = (inst.SecurityGroups ?? []).map((g) => g.GroupId ?? '');
    if (!groups.includes(accessGroup))
      await ec2.send(
        new ModifyInstanceAttributeCommand({ InstanceId: instanceId, Groups: [...groups, accessGroup] }),
      );
    const assoc = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: 'instance-id', Values: [instanceId] }],
      }),
    );
    if (
      (assoc.IamInstanceProfileAssociations ?? []).some(
        (a) => a.State === 'associated' || a.State === 'associating',
      )
    )
      return 'open';
    try {
      await ec2.send(
        new AssociateIamInstanceProfileCommand({
          InstanceId: instanceId,
          IamInstanceProfile: { Name: ACCESS_PROFILE },
        }),
      );
    } catch (err) {
      if (!profileMissing(err)) throw err;
      return 'profile-missing';
    }
    return 'open';
  }
}
