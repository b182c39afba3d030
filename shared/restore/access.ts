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
// the result names the user and the secret's ARN. The EC2 and RDS calls are
// in shared/aws/isolated-access.ts, behind IsolatedAccessPort.
import type { IsolatedAccessPort } from '../aws/isolated-access.ts';
import { ACCESS_PROFILE, JUMP_IMAGE_NAME } from '../domain/isolated-account.ts';
import {
  ACCESS_NOTES,
  cliScope,
  contentExportCommand,
  databaseExportCommand,
  ISOLATED_PROFILE,
  objectListCommands,
  portForwardCommands,
  secretReadCommand,
  serverCommands,
} from '../domain/operator-commands.ts';
import { resource as instanceResource } from './image.ts';
import type { IsolatedNetwork } from './isolated-network.ts';
import type { CreatedResource, IsolatedTarget, RestoredItem } from './types.ts';

export { ACCESS_PROFILE, ACCESS_SERVICES, PURPOSE_TAG } from '../domain/isolated-account.ts';

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

const profileMissingWhy = (account: string) =>
  `the ${ACCESS_PROFILE} instance profile is missing in account ${account}: deploy deploy/isolated-account.yml (it creates it), then re-run the restore`;

/** The access of an item, or why there is none (no isolated network: a stand-in target in a test). */
export async function accessFor(
  target: IsolatedTarget,
  restored: RestoredItem,
  requestId: string,
  route: IsolatedAccessPort | undefined,
): Promise<{ access: ItemAccess; resources: CreatedResource[] }> {
  const item = `${restored.class} ${restored.source}`;
  // Objects are reached through the AWS API: no network, no route port (their functions carry neither).
  if (restored.class === 'content' || restored.class === 'logs')
    return objectAccess(target, restored, { requestId, profile: ISOLATED_PROFILE });
  const network = target.network as IsolatedNetwork | undefined;
  if (!network?.dbSecurityGroupId)
    return {
      access: { item, route: { kind: 'none', why: 'the target has no isolated network' } },
      resources: [],
    };
  if (!route) throw new Error(`${item}: no on-call route was given (a database or server restore needs one)`);
  return prepareAccess({ ...target, network }, restored, { requestId, profile: ISOLATED_PROFILE }, route);
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
  route: IsolatedAccessPort,
): Promise<{ access: ItemAccess; resources: CreatedResource[] }> {
  const item = `${restored.class} ${restored.source}`;
  const p = cliScope(target.region, ctx.profile);
  if (restored.class === 'database') {
    const instance = restored.resources.find((r) => r.type === 'AWS::RDS::DBInstance')?.id;
    const cluster = restored.resources.find((r) => r.type === 'AWS::RDS::DBCluster')?.id;
    if (!instance)
      return {
        access: { item, route: { kind: 'none', why: 'the restore reported no DB instance' } },
        resources: [],
      };
    const pw = await route.managedPassword({ instance, cluster });
    const accessGroup = await route.ensureRoute(target.network);
    const host = await route.ensureJumpHost(target.network, accessGroup, ctx.requestId);
    const port = pw.port ?? 3306;
    const endpoint = pw.endpoint ?? restored.endpoint?.split(':')[0];
    const secret = {
      arn: pw.secretArn,
      account: target.accountId,
      region: target.region,
      read: secretReadCommand(pw.secretArn, p),
    };
    const base = {
      item,
      endpoint,
      port,
      user: pw.user,
      ...(pw.database ? { database: pw.database } : {}),
      secret,
      export: databaseExportCommand(ctx.requestId, restored.source),
    };
    if (!('id' in host)) {
      const why =
        host.missing === 'image'
          ? `no Amazon Linux 2023 image (${JUMP_IMAGE_NAME}) is visible in ${target.region}`
          : profileMissingWhy(target.accountId);
      return { access: { ...base, route: { kind: 'none', why } }, resources: [] };
    }
    return {
      access: {
        ...base,
        route: {
          kind: 'session-manager',
          via: host.id,
          commands: portForwardCommands({
            jumpHost: host.id,
            endpoint,
            port,
            user: pw.user,
            secretRead: secret.read,
            scope: p,
          }),
          note: ACCESS_NOTES.portForward,
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
    const accessGroup = await route.ensureRoute(target.network);
    const opened = await route.openServer(instance, accessGroup);
    const why =
      opened === 'gone'
        ? `${instance} does not exist in the isolated account`
        : opened === 'profile-missing'
          ? profileMissingWhy(target.accountId)
          : undefined;
    return {
      access: {
        item,
        endpoint: restored.endpoint,
        route: why
          ? { kind: 'none', why }
          : {
              kind: 'session-manager',
              via: instance,
              commands: serverCommands(instance, p),
              note: ACCESS_NOTES.server,
            },
      },
      resources: [],
    };
  }
  return objectAccess(target, restored, ctx);
}

/** Content and logs: objects in the isolated account's restore bucket, listed and exported with the AWS CLI. */
function objectAccess(
  target: IsolatedTarget,
  restored: RestoredItem,
  ctx: AccessContext,
): { access: ItemAccess; resources: CreatedResource[] } {
  const item = `${restored.class} ${restored.source}`;
  const p = cliScope(target.region, ctx.profile);
  const where = restored.endpoint ?? restored.resources[0]?.id ?? '';
  return {
    access: {
      item,
      endpoint: where,
      route: {
        kind: 'aws-api',
        commands: objectListCommands(where, p),
        note: ACCESS_NOTES.objects,
      },
      export: restored.class === 'content' ? contentExportCommand(ctx.requestId, restored.source) : undefined,
    },
    resources: [],
  };
}
