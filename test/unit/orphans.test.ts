// findOrphans: one class that cannot be searched is a row, never a silent "none".
import { describe, expect, it } from 'vitest';
import type { Clients } from '../../shared/aws/clients.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { findOrphans, type Orphan } from '../../shared/usecases/orphans.ts';

const deps = { policy: loadPolicy(), clients: { region: 'ap-northeast-1' } as Clients };
const leftover: Orphan = {
  class: 'image',
  kind: 'snapshot',
  id: 'snap-1',
  region: 'ap-northeast-1',
  reason: 'untagged snapshot of a kura image',
};

describe('findOrphans', () => {
  it('keeps what the other classes found when one search fails, and names the failure', async () => {
    const found = await findOrphans(deps, {
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
});
