// The on-call commands kura prints (shared/domain/operator-commands.ts), as an
// engineer pastes them: the text of a restore's access section written out,
// and the rule that keeps addresses of the operator's machine out of the
// production code's flow (a loopback literal there reads like an emulator
// branch).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Clients } from '../../shared/aws/clients.ts';
import type { IsolatedAccessPort } from '../../shared/aws/isolated-access.ts';
import { prepareAccess } from '../../shared/restore/access.ts';
import type { RestoredItem } from '../../shared/restore/types.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const target = {
  clients: {} as Clients,
  accountId: '210987654321',
  region: 'ap-northeast-1',
  network: {
    vpcId: 'vpc-1',
    subnetIds: ['subnet-1'],
    securityGroupId: 'sg-1',
    dbSecurityGroupId: 'sg-db',
    dbSubnetGroup: 'kura-isolated',
  },
};
const ctx = { requestId: 'oncall-1', profile: 'kura-isolated' };
const restored = (cls: RestoredItem['class'], type: string, id: string, endpoint?: string): RestoredItem => ({
  class: cls,
  source: 'shop',
  recoveryPoint: {
    class: cls,
    source: 'shop',
    id: 'rp',
    time: '2026-11-01T19:00:00.000Z',
    region: 'ap-northeast-1',
  },
  resources: [{ type, id, account: target.accountId, region: target.region, cleanup: '' }],
  ...(endpoint ? { endpoint } : {}),
  startedAt: '',
  finishedAt: '',
  durationSeconds: 0,
});
const route: IsolatedAccessPort = {
  ensureRoute: async () => 'sg-access',
  managedPassword: async () => ({
    user: 'admin',
    secretArn: 'arn:aws:secretsmanager:ap-northeast-1:210987654321:secret:rds!db-1',
    endpoint: 'shop.internal',
    port: 3306,
  }),
  ensureJumpHost: async () => ({ id: 'i-jump' }),
  openServer: async () => 'open',
};
const SCOPE = '--region ap-northeast-1 --profile kura-isolated';
const READ = `aws secretsmanager get-secret-value --secret-id 'arn:aws:secretsmanager:ap-northeast-1:210987654321:secret:rds!db-1' --query SecretString --output text ${SCOPE}`;

describe('the on-call commands a restore prints', () => {
  it('a database: the port forward through the jump host, the client on its local end, the export through it', async () => {
    const { access } = await prepareAccess(
      target,
      restored('database', 'AWS::RDS::DBInstance', 'kura-r-shop'),
      ctx,
      route,
    );
    expect(access.secret?.read).toBe(READ);
    expect(access.export).toBe(
      'npx kura restore export oncall-1 --database shop --via 127.0.0.1:13306 --table <table> --yes',
    );
    expect(access.route).toEqual({
      kind: 'session-manager',
      via: 'i-jump',
      commands: [
        `aws ssm start-session --target i-jump --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters '{"host":["shop.internal"],"portNumber":["3306"],"localPortNumber":["13306"]}' ${SCOPE}`,
        `mysql -h 127.0.0.1 -P 13306 -u admin -p   # the password: ${READ}`,
      ],
      note: 'the endpoints and the jump host need a few minutes after the restore before Session Manager answers',
    });
  });

  it('a server: a shell and its console output; content: the listing and the export', async () => {
    const server = await prepareAccess(target, restored('image', 'AWS::EC2::Instance', 'i-web'), ctx, route);
    const content = await prepareAccess(
      target,
      restored('content', 'AWS::S3::Bucket', 'kura-restore', 's3://kura-restore/oncall-1/'),
      ctx,
      route,
    );
    expect(server.access.route).toMatchObject({
      commands: [
        `aws ssm start-session --target i-web ${SCOPE}`,
        `aws ec2 get-console-output --instance-id i-web --latest --output text ${SCOPE}`,
      ],
    });
    expect(content.access.route).toMatchObject({
      commands: [`aws s3 ls s3://kura-restore/oncall-1/ --recursive ${SCOPE}`],
    });
    expect(content.access.export).toBe(
      'npx kura restore export oncall-1 --content shop --to s3://<bucket>/<prefix>/ --yes',
    );
  });
});

/** Files of shared/ and functions/ that hold a loopback address outside a comment. */
function loopbackLiterals(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(`${dir}/${e.name}`) : /\.ts$/.test(e.name) ? [`${dir}/${e.name}`] : [],
    );
  return ['shared', 'functions'].flatMap(walk).filter((f) =>
    readFileSync(join(ROOT, f), 'utf8')
      .split('\n')
      .some((l) => !/^\s*(\/\/|\*|\/\*)/.test(l) && /\b(127\.0\.0\.1|localhost)\b|\[::1\]/.test(l)),
  );
}

describe('printed commands live in the domain, not in the flow', () => {
  it('no loopback address in shared/ or functions/ but the port forward’s local end, in operator-commands.ts', () => {
    expect(loopbackLiterals()).toEqual(['shared/domain/operator-commands.ts']);
  });
});
