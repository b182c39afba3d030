// AWS adapter: the isolated account's long-lived network, found or created in
// the account the given clients act in: a VPC with no internet or NAT gateway,
// subnets whose route tables only know the VPC itself, a security group with
// no ingress and no egress for instances, a database security group that only
// admits members of itself on database ports for the SQL probe runner, a DB
// subnet group over two zones. All of it is tagged kura:managed and kura:role
// so that leftover checks can tell it apart from what a run created. The key
// and the bucket restores use are in isolated-storage.ts.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { CreateDBSubnetGroupCommand, DescribeDBSubnetGroupsCommand, RDSClient } from '@aws-sdk/client-rds';
import { TAG } from '../domain/tags.ts';
import { KuraError } from '../runtime/errors.ts';
import type { Clients } from './clients.ts';
import { tolerate } from './errors.ts';

import {
  ISOLATED_KEY_ALIAS,
  NETWORK_NAME,
  NETWORK_ROLE,
  ROLE_TAG,
  RUN_TAG,
} from '../domain/isolated-account.ts';

export { ISOLATED_KEY_ALIAS, NETWORK_NAME, NETWORK_ROLE, ROLE_TAG, RUN_TAG };
const VPC_CIDR = '10.213.0.0/16';
const SUBNET_CIDRS = ['10.213.1.0/24', '10.213.2.0/24'];
/** MySQL/MariaDB/Aurora MySQL and PostgreSQL/Aurora PostgreSQL. */
const DB_PORTS = [3306, 5432];

export interface IsolatedNetwork {
  vpcId: string;
  subnetIds: string[];
  /** No ingress, no egress: for restored instances. */
  securityGroupId: string;
  /** Ingress on database ports from itself only: for restored databases and the probe runner. */
  dbSecurityGroupId: string;
  dbSubnetGroup: string;
}

/** The isolated network has a way out (an internet or NAT gateway, or a route beyond the VPC). */
export class NetworkNotIsolatedError extends KuraError {
  override name = 'NetworkNotIsolatedError';
}
export const networkTags = (name: string) => [
  { Key: 'Name', Value: name },
  { Key: TAG.managed, Value: 'true' },
  { Key: TAG.class, Value: 'restore' },
  { Key: ROLE_TAG, Value: NETWORK_ROLE },
];

async function findVpc(ec2: EC2Client): Promise<string | undefined> {
  const r = await ec2.send(
    new DescribeVpcsCommand({
      Filters: [
        { Name: `tag:${ROLE_TAG}`, Values: [NETWORK_ROLE] },
        { Name: `tag:${TAG.managed}`, Values: ['true'] },
      ],
    }),
  );
  return r.Vpcs?.map((v) => v.VpcId ?? '').sort()[0];
}

async function ensureSubnets(ec2: EC2Client, vpcId: string): Promise<string[]> {
  const existing = await ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  const byCidr = new Map((existing.Subnets ?? []).map((s) => [s.CidrBlock, s.SubnetId ?? '']));
  const zones = (
    await ec2.send(
      new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'state', Values: ['available'] }] }),
    )
  ).AvailabilityZones?.map((z) => z.ZoneName ?? '')
    .filter(Boolean)
    .sort();
  if (!zones || zones.length < 2)
    throw new Error('the isolated region has fewer than two availability zones; a DB subnet group needs two');
  const ids: string[] = [];
  for (const [i, cidr] of SUBNET_CIDRS.entries()) {
    let id = byCidr.get(cidr);
    if (!id) {
      const s = await ec2.send(
        new CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: cidr,
          AvailabilityZone: zones[i],
          TagSpecifications: [{ ResourceType: 'subnet', Tags: networkTags(`${NETWORK_NAME}-${i + 1}`) }],
        }),
      );
      id = s.Subnet?.SubnetId ?? '';
    }
    ids.push(id);
  }
  return ids;
}

export async function ensureSecurityGroup(
  ec2: EC2Client,
  vpcId: string,
  name: string,
  description: string,
  extraTags: { Key: string; Value: string }[] = [],
): Promise<{ id: string; created: boolean }> {
  const r = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [name] },
      ],
    }),
  );
  const found = r.SecurityGroups?.[0]?.GroupId;
  if (found) return { id: found, created: false };
  const g = await ec2.send(
    new CreateSecurityGroupCommand({
      VpcId: vpcId,
      GroupName: name,
      Description: description,
      TagSpecifications: [{ ResourceType: 'security-group', Tags: [...networkTags(name), ...extraTags] }],
    }),
  );
  const id = g.GroupId ?? '';
  // A new group allows all egress; nothing restored in the isolated account may talk out.
  // Only "that rule is not there" is expected (a retried call); a refused revoke is an error:
  // a group that can still talk out must never pass for isolated.
  await tolerate(['notFound'], () =>
    ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    ),
  );
  return { id, created: true };
}

async function ensureDbSubnetGroup(rds: RDSClient, subnetIds: string[]): Promise<string> {
  const found = await tolerate(['notFound'], () =>
    rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: NETWORK_NAME })),
  );
  if (found?.DBSubnetGroups?.[0]) return NETWORK_NAME;
  await rds.send(
    new CreateDBSubnetGroupCommand({
      DBSubnetGroupName: NETWORK_NAME,
      DBSubnetGroupDescription: 'kura isolated restores: subnets with no route out',
      SubnetIds: subnetIds,
      Tags: networkTags(NETWORK_NAME),
    }),
  );
  return NETWORK_NAME;
}

/** Every way out of the VPC found: empty when the network is isolated. */
export async function isolationFindings(clients: Clients, vpcId: string, region?: string): Promise<string[]> {
  const ec2 = clients.get(EC2Client, region);
  const findings: string[] = [];
  const igw = await ec2.send(
    new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }),
  );
  for (const g of igw.InternetGateways ?? [])
    findings.push(`internet gateway ${g.InternetGatewayId} is attached`);
  const nat = await ec2.send(
    new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  for (const g of nat.NatGateways ?? [])
    if (g.State !== 'deleted') findings.push(`NAT gateway ${g.NatGatewayId} exists`);
  // An endpoint is a way out that no route table shows (to S3, STS, SSM, …). Only the
  // documented access route (tagged kura:purpose = access) and the probe runner's
  // Secrets Manager interface endpoint (kura:purpose = probes) are not findings.
  const endpoints = await ec2.send(
    new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  for (const e of endpoints.VpcEndpoints ?? []) {
    if (e.State && ['deleted', 'deleting', 'rejected', 'failed'].includes(e.State.toLowerCase())) continue;
    const purpose = e.Tags?.find((t) => t.Key === 'kura:purpose')?.Value;
    if (purpose === 'access') continue;
    if (
      purpose === 'probes' &&
      e.VpcEndpointType === 'Interface' &&
      /\.secretsmanager$/.test(e.ServiceName ?? '')
    )
      continue;
    findings.push(
      `VPC endpoint ${e.VpcEndpointId} (${e.VpcEndpointType ?? 'endpoint'} to ${e.ServiceName}) exists`,
    );
  }
  const rts = await ec2.send(
    new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
  );
  for (const rt of rts.RouteTables ?? []) {
    for (const r of rt.Routes ?? []) {
      if (r.GatewayId === 'local') continue;
      const dest = r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock ?? r.DestinationPrefixListId ?? '?';
      const via =
        r.GatewayId ??
        r.NatGatewayId ??
        r.TransitGatewayId ??
        r.VpcPeeringConnectionId ??
        r.NetworkInterfaceId ??
        '?';
      findings.push(`route table ${rt.RouteTableId} routes ${dest} via ${via}`);
    }
  }
  return findings;
}

/**
 * Finds or creates the isolated network in the account `clients` act in.
 * Idempotent; refuses (NetworkNotIsolatedError) when the network found has a way out.
 */
export async function ensureIsolatedNetwork(
  clients: Clients,
  region = clients.region,
): Promise<IsolatedNetwork> {
  const ec2 = clients.get(EC2Client, region);
  let vpcId = await findVpc(ec2);
  if (!vpcId) {
    const v = await ec2.send(
      new CreateVpcCommand({
        CidrBlock: VPC_CIDR,
        TagSpecifications: [{ ResourceType: 'vpc', Tags: networkTags(NETWORK_NAME) }],
      }),
    );
    vpcId = v.Vpc?.VpcId ?? '';
  }
  const subnetIds = await ensureSubnets(ec2, vpcId);
  const sg = await ensureSecurityGroup(
    ec2,
    vpcId,
    `${NETWORK_NAME}-no-ingress`,
    'kura isolated restores: no ingress, no egress',
  );
  const dbSg = await ensureSecurityGroup(
    ec2,
    vpcId,
    `${NETWORK_NAME}-db`,
    'kura isolated databases: database ports from this group only',
  );
  if (dbSg.created) {
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: dbSg.id,
        IpPermissions: DB_PORTS.map((p) => ({
          IpProtocol: 'tcp',
          FromPort: p,
          ToPort: p,
          UserIdGroupPairs: [{ GroupId: dbSg.id }],
        })),
      }),
    );
  }
  const dbSubnetGroup = await ensureDbSubnetGroup(clients.get(RDSClient, region), subnetIds);
  const findings = await isolationFindings(clients, vpcId, region);
  if (findings.length > 0) {
    throw new NetworkNotIsolatedError(
      `the isolated network ${vpcId} is not isolated: ${findings.join('; ')}`,
    );
  }
  return { vpcId, subnetIds, securityGroupId: sg.id, dbSecurityGroupId: dbSg.id, dbSubnetGroup };
}
