// The on-call route (shared/restore/access.ts) over its port: what the flow
// decides and says from what AWS answers; the AWS calls themselves are in
// shared/aws/isolated-access.ts (exercised by restore-oncall.test.ts).
import { describe, expect, it } from 'vitest';
import type { Clients } from '../../shared/aws/clients.ts';
import type { IsolatedAccessPort } from '../../shared/aws/isolated-access.ts';
import { prepareAccess } from '../../shared/restore/access.ts';
import type { RestoredItem } from '../../shared/restore/types.ts';

const clients = {
  get: () => {
    throw new Error('the flow built its own AWS client');
  },
} as unknown as Clients;
const target = {
  clients,
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
const item = (
  cls: RestoredItem['class'],
  resources: { type: string; id: string }[],
  endpoint?: string,
): RestoredItem => ({
  class: cls,
  source: cls === 'image' ? 'i-web' : 'shop',
  ...(endpoint ? { endpoint } : {}),
  recoveryPoint: {
    class: cls,
    source: 'shop',
    id: 'rp',
    time: '2026-11-01T19:00:00.000Z',
    region: 'ap-northeast-1',
  },
  resources: resources.map((r) => ({ ...r, account: target.accountId, region: target.region, cleanup: '' })),
  startedAt: '',
  finishedAt: '',
  durationSeconds: 0,
});

function route(over: Partial<IsolatedAccessPort> = {}): IsolatedAccessPort & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    ensureRoute: async (n) => {
      calls.push(`route ${n.vpcId}`);
      return 'sg-access';
    },
    managedPassword: async (db) => {
      calls.push(`password ${db.instance}`);
      return {
        user: 'admin',
        secretArn: 'arn:aws:secretsmanager:ap-northeast-1:210987654321:secret:rds!db-1',
        endpoint: 'shop.internal',
        port: 3306,
        database: 'shop',
      };
    },
    ensureJumpHost: async (_n, group, id) => {
      calls.push(`jump ${group} ${id}`);
      return { id: 'i-jump' };
    },
    openServer: async (id, group) => {
      calls.push(`open ${id} ${group}`);
      return 'open';
    },
    ...over,
  };
}

describe('prepareAccess over its port', () => {
  it('a database: the managed password, the route, then the run’s jump host, which the run owns', async () => {
    const r = route();
    const { access, resources } = await prepareAccess(
      target,
      item('database', [{ type: 'AWS::RDS::DBInstance', id: 'kura-r-shop' }]),
      ctx,
      r,
    );
    expect(r.calls).toEqual(['password kura-r-shop', 'route vpc-1', 'jump sg-access oncall-1']);
    expect(access.route).toMatchObject({ kind: 'session-manager', via: 'i-jump' });
    expect(access.user).toBe('admin');
    expect(access.secret?.read).toContain('get-secret-value');
    expect(resources.map((x) => [x.type, x.id])).toEqual([['AWS::EC2::Instance', 'i-jump']]);
  });

  it('a missing access profile is named with the template that creates it, and no jump host is owned', async () => {
    const r = route({ ensureJumpHost: async () => ({ missing: 'profile' }) });
    const { access, resources } = await prepareAccess(
      target,
      item('database', [{ type: 'AWS::RDS::DBInstance', id: 'kura-r-shop' }]),
      ctx,
      r,
    );
    expect(access.route).toEqual({
      kind: 'none',
      why: 'the kura-access instance profile is missing in account 210987654321: deploy deploy/isolated-account.yml (it creates it), then re-run the restore',
    });
    expect(resources).toEqual([]);
  });

  it('a restored server that is gone has no route, and says so', async () => {
    const r = route({ openServer: async () => 'gone' });
    const { access } = await prepareAccess(
      target,
      item('image', [{ type: 'AWS::EC2::Instance', id: 'i-restored' }]),
      ctx,
      r,
    );
    expect(access.route).toEqual({ kind: 'none', why: 'i-restored does not exist in the isolated account' });
  });
});

// The text an engineer pastes, written out: it comes from shared/domain/operator-commands.ts.
const SCOPE = '--region ap-northeast-1 --profile kura-isolated';
const READ = `aws secretsmanager get-secret-value --secret-id 'arn:aws:secretsmanager:ap-northeast-1:210987654321:secret:rds!db-1' --query SecretString --output text ${SCOPE}`;

describe('the on-call commands a restore prints', () => {
  it('a database: the port forward through the jump host, the client on its local end, the export through it', async () => {
    const { access } = await prepareAccess(
      target,
      item('database', [{ type: 'AWS::RDS::DBInstance', id: 'kura-r-shop' }]),
      ctx,
      route(),
    );
    expect(access.secret?.read).toBe(READ);
    expect(access.export).toBe(
      'npx kura restore export oncall-1 --database shop --via 13306 --table <table> --yes',
    );
    expect(access.route).toEqual({
      kind: 'session-manager',
      via: 'i-jump',
      commands: [
        `aws ssm start-session --target i-jump --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters '{"host":["shop.internal"],"portNumber":["3306"],"localPortNumber":["13306"]}' ${SCOPE}`,
        `mysql --protocol=TCP -P 13306 -u admin -p   # the password: ${READ}`,
      ],
      note: 'the endpoints and the jump host need a few minutes after the restore before Session Manager answers',
    });
  });

  it('a server: a shell and its console output; content: the listing and the export', async () => {
    const server = await prepareAccess(
      target,
      item('image', [{ type: 'AWS::EC2::Instance', id: 'i-web' }]),
      ctx,
      route(),
    );
    const content = await prepareAccess(
      target,
      item('content', [{ type: 'AWS::S3::Bucket', id: 'kura-restore' }], 's3://kura-restore/oncall-1/'),
      ctx,
      route(),
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
