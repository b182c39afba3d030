import { describe, expect, it } from 'vitest';
import { backupCopyName } from '../../shared/domain/database-copies.ts';
import { IDENTIFIER_LIMIT, recoveryPointName, regionCode, restoredName } from '../../shared/domain/naming.ts';
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

  it('names a restored copy by run and source, and with sources by account and region too, unique and within RDS limits', () => {
    // Single-account mode: as it always was.
    expect(restoredName('validation', '202612010000', 'shop-db')).toBe('kura-v-202612010000-shop-db');
    // Two source accounts' namesakes, and one account's in two regions, restore side by side.
    const a = restoredName('validation', '202612010000', 'shop-db', {
      account: '333333333333',
      sourceRegion: 'ap-northeast-1',
    });
    const b1 = restoredName('validation', '202612010000', 'shop-db', {
      account: '444444444444',
      sourceRegion: 'ap-northeast-1',
    });
    const b2 = restoredName('validation', '202612010000', 'shop-db', {
      account: '444444444444',
      sourceRegion: 'us-west-2',
    });
    expect([a, b1, b2]).toEqual([
      'kura-v-202612010000-shop-db-333333333333-apne1',
      'kura-v-202612010000-shop-db-444444444444-apne1',
      'kura-v-202612010000-shop-db-444444444444-usw2',
    ]);
    expect(regionCode('ap-southeast-2')).toBe('apse2');
    // The longest run id (a restore request's 24 characters) and a 63-character database name:
    // still unique per origin, an RDS identifier (letter first, no "--", no trailing "-"),
    // and short enough for an Aurora writer's "-w" (60).
    const long = `db${'x'.repeat(61)}`;
    const names = ['333333333333', '444444444444'].flatMap((account) =>
      ['us-west-1', 'us-west-2'].map((sourceRegion) =>
        restoredName('restore', 'inc-4711-shop-db-restore', long, { account, sourceRegion }),
      ),
    );
    expect(new Set(names).size).toBe(4);
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(60);
      expect(n).toMatch(/^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$/);
    }
    // Two long names that differ only past the cut stay apart too.
    const cut = (s: string) =>
      restoredName('restore', 'inc-4711-shop-db-restore', s, {
        account: '333333333333',
        sourceRegion: 'us-west-2',
      });
    expect(cut(`${long}a`)).not.toBe(cut(`${long}b`));
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
