import { describe, expect, it } from 'vitest';
import { backupCopyName } from '../../shared/domain/database-copies.ts';
import { IDENTIFIER_LIMIT, recoveryPointName } from '../../shared/domain/naming.ts';
import { pitrFindings } from '../../shared/domain/pitr.ts';
import { copiedTags, isManaged, managedTags } from '../../shared/domain/tags.ts';

const policy = { retainDays: 7, rpoMinutes: 5 };
const now = new Date('2026-11-21T19:00:00Z');

describe('pitrFindings', () => {
  it('finds nothing when retention and restorable time are within policy', () => {
    expect(
      pitrFindings(
        { backupRetentionDays: 7, latestRestorableTime: new Date(now.getTime() - 4 * 60_000) },
        policy,
        now,
      ),
    ).toEqual([]);
  });

  it('reports a retention shorter than the policy', () => {
    const f = pitrFindings({ backupRetentionDays: 3, latestRestorableTime: now }, policy, now);
    expect(f).toEqual([
      { kind: 'retention', message: expect.stringContaining('3 days; the policy needs at least 7') },
    ]);
  });

  it('reports a latest restorable time older than the RPO', () => {
    const f = pitrFindings(
      { backupRetentionDays: 7, latestRestorableTime: new Date(now.getTime() - 12 * 60_000) },
      policy,
      now,
    );
    expect(f).toEqual([
      { kind: 'rpo', message: expect.stringContaining('12.0 minutes old; the RPO is 5 minutes') },
    ]);
  });

  it('reports disabled automated backups', () => {
    expect(pitrFindings({ backupRetentionDays: 0 }, policy, now)[0]?.kind).toBe('disabled');
  });
});

describe('names and tags', () => {
  it('derives the same snapshot name from the same scheduled time', () => {
    expect(recoveryPointName('shop-db', now)).toBe('kura-shop-db-202611211900');
    expect(recoveryPointName('Shop_DB--1', now)).toBe('kura-shop-db-1-202611211900');
  });

  it("keeps a long cluster's names within the 63 characters of a cluster snapshot id, deterministic and distinct", () => {
    // Aurora cluster ids hold 63 characters; its snapshot ids too (CreateDBClusterSnapshot), and the
    // backup account's copy adds its source account and region (41 characters with the stamp).
    const long = 'aurora-analytics-warehouse-reporting-replica-eu-west-and-more';
    const other = 'aurora-analytics-warehouse-reporting-replica-eu-west-and-less';
    const own = recoveryPointName(long, now, IDENTIFIER_LIMIT.cluster);
    expect(own.length).toBeLessThanOrEqual(63);
    expect(own).toMatch(/^kura-aurora-analytics-[a-z0-9-]+-[0-9a-f]{8}-202611211900$/);
    expect(own).toBe(recoveryPointName(long, now, IDENTIFIER_LIMIT.cluster));
    expect(own).not.toBe(recoveryPointName(other, now, IDENTIFIER_LIMIT.cluster));
    // An instance snapshot id holds 255: nothing is cut there.
    expect(recoveryPointName(long, now)).toBe(`kura-${long}-202611211900`);

    const target = { account: '333333333333', region: 'ap-northeast-1' };
    const copy = backupCopyName(`kura-${long}-202611211900`, target, 'cluster');
    expect(copy.length).toBe(63);
    expect(copy).toMatch(/^kura-aurora-[a-z0-9-]*[0-9a-f]{8}-202611211900-333333333333-ap-northeast-1$/);
    expect(copy).not.toContain('--');
    expect(copy).not.toBe(backupCopyName(`kura-${other}-202611211900`, target, 'cluster'));
    // Short names are unchanged by the limit (existing copies keep their names).
    expect(backupCopyName('kura-shop-db-202611211900', target, 'cluster')).toBe(
      'kura-shop-db-202611211900-333333333333-ap-northeast-1',
    );
    expect(backupCopyName(`kura-${long}-202611211900`, target, 'instance')).toBe(
      `kura-${long}-202611211900-333333333333-ap-northeast-1`,
    );
  });

  it('marks what kura manages and copies only the named, non-kura tags', () => {
    const tags = managedTags({
      backupClass: 'database',
      source: 'shop-db',
      time: now,
      createdBy: 'rds-snapshot',
    });
    expect(isManaged(tags, 'database')).toBe(true);
    expect(isManaged(tags, 'image')).toBe(false);
    expect(
      copiedTags({ env: 'prod', owner: 'x', 'kura:managed': 'true' }, ['env', 'kura:managed', 'missing']),
    ).toEqual({ env: 'prod' });
  });
});
