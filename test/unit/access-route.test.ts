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
const item = (cls: 'database' | 'image', resources: { type: string; id: string }[]): RestoredItem => ({
  class: cls,
  source: cls === 'database' ? 'shop' : 'i-web',
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
