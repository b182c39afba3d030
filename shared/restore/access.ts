// Restore: how an on-call engineer reaches what a restore put in the
// isolated account, which has no way out (no internet or NAT gateway, no
// route beyond the VPC). The route in is Systems Manager Session Manager:
//   - three interface endpoints in the isolated VPC (ssm, ssmmessages,
//     ec2messages), tagged kura:purpose = access, behind a security group that
//     admits 443 from inside the VPC only. They add no route out.
//   - for a restored database, a small jump host per restore (tagged with the
//     run, removed by `kura restore cleanup`) with the kura-access instance
//     profile (deploy/isolated-account.yml), a member of the database security
//     group; Session Manager port forwarding
//     (AWS-StartPortForwardingSessionToRemoteHost) carries the database port to
//     the engineer's machine through it.
//   - for a restored server, the same profile and egress to the endpoints, so
//     that `aws ssm start-session --target <instance>` opens a shell on it.
// The restored database gets a fresh master password managed by RDS in
// Secrets Manager in the isolated account (never production's, never printed):
// the result names the user and the secret's ARN.
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
import { isAwsError } from '../aws/errors.ts';
import { TAG } from '../domain/tags.ts';
import { NotReadyError } from '../runtime/errors.ts';
import { RUN_TAG } from './database.ts';
import { ensureSecurityGroup } from '../aws/isolated-network.ts';
import { type IsolatedNetwork, NETWORK_ROLE, ROLE_TAG } from './isolated-network.ts';
import { resource as instanceResource } from './image.ts';
import type { CreatedResource, IsolatedTarget, RestoredItem } from './types.ts';

/** The instance profile deploy/isolated-account.yml creates for the jump host and restored servers. */
export const ACCESS_PROFILE = 'kura-access';
export const PURPOSE_TAG = 'kura:purpose';
export const ACCESS_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'];
const ENDPOINTS_GROUP = 'kura-isolated-endpoints';
const ACCESS_GROUP = 'kura-isolated-access';
const DB_PORTS = [3306, 5432];
/** Amazon Linux 2023 (Session Manager agent preinstalled), arm64 for the smallest instance. */
const JUMP_IMAGE_NAME = 'al2023-ami-2023.*-kernel-6.1-arm64';
const JUMP_TYPE = 't4g.nano';
/** The local port the documented port-forwarding command uses. */
export const LOCAL_PORT = 13306;
/** How the commands name the isolated account's credentials: an AWS CLI profile (docs/restore.md). */
export const ISOLATED_PROFILE = 'kura-isolated';

export interface ItemAccess {
  item: string;
  /** Where the restored thing answers inside the isolated VPC. */
  endpoint?: string;
  port?: number;
  /** Database: the master user, its password in the secret below. */
  user?: string;
  /** Database: the schema the instance was created with (its DBName), when it has one. */
  database?: string;
  secret?: { arn: string; account: string; region: string; read: string };
  /** The network path in, ready to paste (with credentials of the isolated account). */
  route:
    | { kind: 'session-manager'; via: string; commands: string[]; note?: string }
    | { kind: 'aws-api'; commands: string[]; note?: string }
    | { kind: 'none'; why: string };
  /** How to bring data back out. */
  export?: string;
}

export interface AccessContext {
  requestId: string;
  /** How the isolated account's credentials are named in the commands (an AWS CLI profile). */
  profile: string;
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

async function vpcCidr(ec2: EC2Client, vpcId: string): Promise<string> {
  const v = await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
  return v.Vpcs?.[0]?.CidrBlock ?? '10.213.0.0/16';
}

/** A group of the route: found by name, or created (no egress, tagged as access) with exactly its rules. */
async function ensureGroup(
  ec2: EC2Client,
  vpcId: string,
  name: string,
  description: string,
  rules: (id: string) => Promise<void>,
): Promise<string> {
  const g = await ensureSecurityGroup(ec2, vpcId, name, description, [{ Key: PURPOSE_TAG, Value: 'access' }]);
  if (g.created) await rules(g.id);
  return g.id;
}

/**
 * The Session Manager endpoints in the isolated VPC and the two groups of the
 * route (long-lived, like the network: found first, created once). Returns
 * the access group, for the jump host and restored servers.
 */
export async function ensureAccessRoute(target: IsolatedTarget, network: IsolatedNetwork): Promise<string> {
  const ec2 = target.clients.get(EC2Client, target.region);
  const cidr = await vpcCidr(ec2, network.vpcId);
  const endpointsGroup = await ensureGroup(
    ec2,
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
  const accessGroup = await ensureGroup(
    ec2,
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
    const name = `com.amazonaws.${target.region}.${service}`;
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

/** RDS keeps a fresh master password for the restored copy in Secrets Manager (never production's). */
async function managedPassword(
  target: IsolatedTarget,
  db: { instance: string; cluster?: string },
): Promise<{ user: string; secretArn: string; endpoint?: string; port?: number; database?: string }> {
  const rds = target.clients.get(RDSClient, target.region);
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
    ? (await rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: db.cluster, ...managed }))).DBCluster
        ?.MasterUserSecret
    : (await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: db.instance, ...managed })))
        .DBInstance?.MasterUserSecret;
  return { user, secretArn: secret?.SecretArn ?? '', ...where };
}

async function jumpImage(ec2: EC2Client): Promise<string | undefined> {
  const r = await ec2.send(
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

/** The run's jump host: found by its tags (a resumed restore reuses it), else launched. */
async function ensureJumpHost(
  target: IsolatedTarget,
  network: IsolatedNetwork,
  accessGroup: string,
  requestId: string,
): Promise<{ id?: string; why?: string }> {
  const ec2 = target.clients.get(EC2Client, target.region);
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
  const image = await jumpImage(ec2);
  if (!image)
    return { why: `no Amazon Linux 2023 image (${JUMP_IMAGE_NAME}) is visible in ${target.region}` };
  const tags = [
    ...accessTags(`kura-access-${requestId}`, { [RUN_TAG]: requestId, [PURPOSE_TAG]: 'access-host' }).filter(
      (t) => t.Key !== ROLE_TAG,
    ),
  ];
  try {
    const r = await ec2.send(
      new RunInstancesCommand({
        ImageId: image,
        InstanceType: JUMP_TYPE,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: network.subnetIds[0],
        SecurityGroupIds: [network.dbSecurityGroupId, accessGroup],
        IamInstanceProfile: { Name: ACCESS_PROFILE },
        MetadataOptions: { HttpTokens: 'required' },
        ClientToken: `kura-access-${requestId}`.slice(0, 64),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: tags },
          { ResourceType: 'volume', Tags: tags },
        ],
      }),
    );
    return { id: r.Instances?.[0]?.InstanceId };
  } catch (err) {
    if (profileMissing(err))
      return {
        why: `the ${ACCESS_PROFILE} instance profile is missing in account ${target.accountId}: deploy deploy/isolated-account.yml (it creates it), then re-run the restore`,
      };
    throw err;
  }
}

/** A restored server joins the route: the access profile, and egress to the endpoints only. */
async function openServer(
  target: IsolatedTarget,
  instanceId: string,
  accessGroup: string,
): Promise<string | undefined> {
  const ec2 = target.clients.get(EC2Client, target.region);
  const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations?.[0]
    ?.Instances?.[0];
  if (!inst) return `${instanceId} does not exist in the isolated account`;
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
    return undefined;
  try {
    await ec2.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: instanceId,
        IamInstanceProfile: { Name: ACCESS_PROFILE },
      }),
    );
  } catch (err) {
    if (!profileMissing(err)) throw err;
    return `the ${ACCESS_PROFILE} instance profile is missing in account ${target.accountId}: deploy deploy/isolated-account.yml (it creates it), then re-run the restore`;
  }
  return undefined;
}

/** The access of an item, or why there is none (no isolated network: a stand-in target in a test). */
export async function accessFor(
  target: IsolatedTarget,
  restored: RestoredItem,
  requestId: string,
): Promise<{ access: ItemAccess; resources: CreatedResource[] }> {
  const item = `${restored.class} ${restored.source}`;
  const network = target.network as IsolatedNetwork | undefined;
  if (!network?.dbSecurityGroupId)
    return {
      access: { item, route: { kind: 'none', why: 'the target has no isolated network' } },
      resources: [],
    };
  return prepareAccess({ ...target, network }, restored, { requestId, profile: ISOLATED_PROFILE });
}

/**
 * Makes a restored item reachable and says how. Idempotent (a resumed
 * restore finds what it made). Returns what it created that belongs to the
 * run (the jump host), for the report and `kura restore cleanup`.
 */
export async function prepareAccess(
  target: IsolatedTarget & { network: IsolatedNetwork },
  restored: RestoredItem,
  ctx: AccessContext,
): Promise<{ access: ItemAccess; resources: CreatedResource[] }> {
  const item = `${restored.class} ${restored.source}`;
  const p = `--region ${target.region} --profile ${ctx.profile}`;
  if (restored.class === 'database') {
    const instance = restored.resources.find((r) => r.type === 'AWS::RDS::DBInstance')?.id;
    const cluster = restored.resources.find((r) => r.type === 'AWS::RDS::DBCluster')?.id;
    if (!instance)
      return {
        access: { item, route: { kind: 'none', why: 'the restore reported no DB instance' } },
        resources: [],
      };
    const pw = await managedPassword(target, { instance, cluster });
    const accessGroup = await ensureAccessRoute(target, target.network);
    const host = await ensureJumpHost(target, target.network, accessGroup, ctx.requestId);
    const port = pw.port ?? 3306;
    const endpoint = pw.endpoint ?? restored.endpoint?.split(':')[0];
    const secret = {
      arn: pw.secretArn,
      account: target.accountId,
      region: target.region,
      read: `aws secretsmanager get-secret-value --secret-id '${pw.secretArn}' --query SecretString --output text ${p}`,
    };
    const base = {
      item,
      endpoint,
      port,
      user: pw.user,
      ...(pw.database ? { database: pw.database } : {}),
      secret,
      export: `npx kura restore export ${ctx.requestId} --database ${restored.source} --via 127.0.0.1:${LOCAL_PORT} --table <table> --yes`,
    };
    if (!host.id)
      return { access: { ...base, route: { kind: 'none', why: host.why ?? 'no jump host' } }, resources: [] };
    const params = JSON.stringify({
      host: [endpoint],
      portNumber: [String(port)],
      localPortNumber: [String(LOCAL_PORT)],
    });
    return {
      access: {
        ...base,
        route: {
          kind: 'session-manager',
          via: host.id,
          commands: [
            `aws ssm start-session --target ${host.id} --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters '${params}' ${p}`,
            `mysql -h 127.0.0.1 -P ${LOCAL_PORT} -u ${pw.user} -p   # the password: ${secret.read}`,
          ],
          note: 'the endpoints and the jump host need a few minutes after the restore before Session Manager answers',
        },
      },
      resources: [instanceResource(host.id, target)],
    };
  }
  if (restored.class === 'image') {
    const instance = restored.resources.find((r) => r.type === 'AWS::EC2::Instance')?.id;
    if (!instance)
      return {
        access: { item, route: { kind: 'none', why: 'the restore reported no instance' } },
        resources: [],
      };
    const accessGroup = await ensureAccessRoute(target, target.network);
    const why = await openServer(target, instance, accessGroup);
    return {
      access: {
        item,
        endpoint: restored.endpoint,
        route: why
          ? { kind: 'none', why }
          : {
              kind: 'session-manager',
              via: instance,
              commands: [
                `aws ssm start-session --target ${instance} ${p}`,
                `aws ec2 get-console-output --instance-id ${instance} --latest --output text ${p}`,
              ],
              note: 'a shell needs the Session Manager agent in the image (Amazon Linux and most AWS images have it); the console output works for any image',
            },
      },
      resources: [],
    };
  }
  // Content and logs: objects in the isolated account's restore bucket.
  const where = restored.endpoint ?? restored.resources[0]?.id ?? '';
  return {
    access: {
      item,
      endpoint: where,
      route: {
        kind: 'aws-api',
        commands: [`aws s3 ls ${where} --recursive ${p}`],
        note: 'objects in the isolated account are read with its credentials; nothing there can reach production',
      },
      export:
        restored.class === 'content'
          ? `npx kura restore export ${ctx.requestId} --content ${restored.source} --to s3://<bucket>/<prefix>/ --yes`
          : undefined,
    },
    resources: [],
  };
}
