// findOrphans and the inventory over their ports: one class that cannot be
// searched is a row, never a silent "none"; and the use cases read AWS only
// through the ports they are given (the clients here cannot send anything).
import { describe, expect, it } from 'vitest';
import type { Clients } from '../../shared/aws/clients.ts';
import type { Database, Snapshot } from '../../shared/aws/rds.ts';
import type { EstatePorts } from '../../shared/aws/report-ports.ts';
import { managedTags } from '../../shared/domain/tags.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { inventory } from '../../shared/usecases/inventory.ts';
import { findOrphans, type Orphan } from '../../shared/usecases/orphans.ts';

const policy = loadPolicy();
const noSdk = (): never => {
  throw new Error('a use case built its own AWS client');
};
const clients = {
  region: policy.region,
  timer: { now: () => Date.parse('2026-11-02T00:00:00Z') },
  get: noSdk,
} as unknown as Clients;
const deps = { policy, clients };
const leftover: Orphan = {
  class: 'image',
  kind: 'snapshot',
  id: 'snap-1',
  region: 'ap-northeast-1',
  reason: 'untagged snapshot of a kura image',
};
const tag = policy.selector;
const db: Database = {
  id: 'shop',
  kind: 'instance',
  arn: 'arn:aws:rds:ap-northeast-1:123456789012:db:shop',
  engine: 'mysql',
  status: 'available',
  tags: { [tag.tagKey]: tag.tagValue },
  backupRetentionDays: 7,
  encrypted: true,
};
const snapshot = (id: string, tags: Snapshot['tags']): Snapshot => ({
  id,
  arn: `arn:aws:rds:ap-northeast-1:123456789012:snapshot:${id}`,
  kind: 'instance',
  source: 'shop',
  status: 'available',
  tags,
  encrypted: true,
});
const kuraTags = managedTags({
  backupClass: 'database',
  source: 'shop',
  time: new Date('2026-11-01T19:00:00Z'),
  createdBy: 'test',
});

/** An estate of one database with one kura snapshot and one untagged lookalike; nothing else. */
const estate: EstatePorts = {
  databases: {
    listDatabases: async () => [db],
    listSnapshots: async (_kind, source, region) =>
      source === 'shop' && (region ?? policy.region) === policy.region
        ? [snapshot('kura-shop-202611011900', kuraTags), snapshot('kura-shop-202610311900', {})]
        : [],
  },
  backedUpDatabases: async () => [{ id: 'shop', kind: 'instance', engine: 'mysql', exists: true }],
  images: {
    listInstances: async () => [],
    listImages: async () => [],
    listManagedImages: async () => [],
    listManagedSnapshots: async () => [],
  },
  objects: { list: async () => [], read: noSdk, head: async () => undefined },
  content: { objects: noSdk as never, generations: noSdk as never },
};

describe('findOrphans', () => {
  it('keeps what the other classes found when one search fails, and names the failure', async () => {
    const found = await findOrphans(deps, estate, {
      database: async () => {
        const err = new Error('User is not authorized to perform rds:DescribeDBSnapshots');
        err.name = 'AccessDenied';
        throw err;
      },
      content: async () => [],
      logs: async () => [],
      image: async () => [leftover],
    });
    expect(found).toEqual([
      {
        class: 'database',
        kind: 'search failed',
        id: '-',
        region: 'ap-northeast-1',
        reason:
          'could not look for leftovers: AccessDenied: User is not authorized to perform rds:DescribeDBSnapshots',
      },
      leftover,
    ]);
  });

  it('reads the estate only through its ports: the untagged lookalike snapshot is the one orphan', async () => {
    const found = await findOrphans({ ...deps, policy: { ...policy, content: [] } }, estate);
    expect(found.map((o) => [o.class, o.kind, o.id])).toEqual([
      ['database', 'snapshot', 'arn:aws:rds:ap-northeast-1:123456789012:snapshot:kura-shop-202610311900'],
    ]);
  });
});

describe('inventory', () => {
  it('lists kura-managed snapshots read through the ports it is given', async () => {
    const items = await inventory({ ...deps, policy: { ...policy, content: [] } }, estate);
    expect(items.map((i) => [i.class, i.source, i.id, i.time])).toEqual([
      ['database', 'shop', 'kura-shop-202611011900', '2026-11-01T19:00:00.000Z'],
    ]);
  });
});
