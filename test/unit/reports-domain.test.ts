// The auditor reports' pure logic: vault drift, series gaps and RPO, cost
// projection, validation history, and the HTML every report shares.
import { describe, expect, it } from 'vitest';
import { toS3LifecycleRule } from '../../shared/aws/vault.ts';
import { lifecycleRules } from '../../shared/domain/lifecycle/index.ts';
import {
  type ApiRule,
  driftSummary,
  lifecycleHtml,
  lifecycleMarkdown,
  lifecycleReport,
} from '../../shared/domain/lifecycle/report.ts';
import { daysPerClass, parsePrices, projectCosts, STATED_PRICES } from '../../shared/domain/reports/cost.ts';
import { type Point, sourceCoverage } from '../../shared/domain/reports/coverage.ts';
import { esc, page } from '../../shared/domain/reports/html.ts';
import { inventoryHtml, inventoryReport } from '../../shared/domain/reports/inventory.ts';
import {
  historyHtml,
  historyMarkdown,
  validationHistory,
} from '../../shared/domain/reports/validation-history.ts';
import { type VaultConfig, vaultDrift } from '../../shared/domain/reports/vault-drift.ts';
import {
  buildReport,
  serializeReport,
  type ValidationReport,
} from '../../shared/domain/validation-report.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import type { Policy } from '../../shared/policy/schema.ts';

const policy = (over: (p: Policy) => void = () => {}): Policy => {
  const p = structuredClone(loadPolicy());
  over(p);
  return p;
};

const KEY = 'arn:aws:kms:ap-northeast-1:123456789012:key/1111';
const BUCKET = 'kura-vault-123456789012-apne1';
const TLS = {
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};
const ADMINS = {
  Sid: 'DenyDataToAllButAdministratorsAndKura',
  Effect: 'Deny',
  Principal: '*',
  Action: ['s3:GetObject*', 's3:PutObject*'],
  Resource: [`arn:aws:s3:::${BUCKET}/*`],
  Condition: {
    ArnNotLike: {
      'aws:PrincipalArn': [
        'arn:aws:iam::123456789012:role/kura-admin',
        'arn:aws:iam::123456789012:role/kura-prod-RdsSnapshotRole-*',
      ],
    },
  },
};

const sound = (over: Partial<VaultConfig> = {}): VaultConfig => ({
  exists: true,
  versioning: 'Enabled',
  objectLock: { enabled: true, mode: 'COMPLIANCE', days: 7 },
  encryption: { algorithm: 'aws:kms', keyId: KEY, keyArn: KEY, bucketKey: true },
  policyKeyArn: KEY,
  publicAccessBlock: {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: true,
    RestrictPublicBuckets: true,
  },
  bucketPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [TLS, ADMINS] }),
  unreadable: [],
  ...over,
});

const failing = (c: VaultConfig, p = policy()) => vaultDrift(p, c).filter((d) => !d.ok);

describe('vault drift', () => {
  it('finds nothing when the vault carries every protection the policy asks for', () => {
    expect(failing(sound())).toEqual([]);
  });

  it('flags exactly the Object Lock retention when its default days drifted', () => {
    const f = failing(sound({ objectLock: { enabled: true, mode: 'COMPLIANCE', days: 1 } }));
    expect(f.map((d) => [d.check, d.expected, d.actual])).toEqual([
      ['Object Lock default retention (days)', '7', '1'],
    ]);
  });

  it('compares a retention stated in years in days', () => {
    const f = failing(sound({ objectLock: { enabled: true, mode: 'GOVERNANCE', years: 1 } }));
    expect(f.map((d) => d.check)).toEqual([
      'Object Lock default mode',
      'Object Lock default retention (days)',
    ]);
    expect(f[1]?.actual).toBe('365');
  });

  it('flags exactly the public access block flag that is off or missing', () => {
    const f = failing(
      sound({
        publicAccessBlock: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true },
      }),
    );
    expect(f.map((d) => d.check)).toEqual(['public access block: RestrictPublicBuckets']);
  });

  it('flags every flag when the bucket has no public access block at all', () => {
    expect(failing(sound({ publicAccessBlock: undefined }))).toHaveLength(4);
  });

  it('flags a bucket encrypted with another key than the policy alias resolves to', () => {
    const other = 'arn:aws:kms:ap-northeast-1:123456789012:key/2222';
    const f = failing(sound({ encryption: { algorithm: 'aws:kms', keyId: other, keyArn: other } }));
    expect(f.map((d) => d.check)).toEqual(['encryption key']);
    expect(f[0]?.actual).toContain('2222');
  });

  it('flags the key when the policy alias does not resolve', () => {
    expect(failing(sound({ policyKeyArn: undefined })).map((d) => d.check)).toEqual(['encryption key']);
  });

  it('flags a bucket policy without the TLS-only deny', () => {
    const f = failing(sound({ bucketPolicy: JSON.stringify({ Statement: [ADMINS] }) }));
    expect(f.map((d) => d.check)).toEqual(['bucket policy: TLS-only deny']);
  });

  it('recognises the administrators statement by shape (StringNotLike) and flags an administrator it does not admit', () => {
    const shaped = {
      ...ADMINS,
      Sid: 'Whatever',
      Condition: { StringNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::123456789012:role/kura-admin' } },
    };
    expect(failing(sound({ bucketPolicy: JSON.stringify({ Statement: [TLS, shaped] }) }))).toEqual([]);
    const f = failing(
      sound({ bucketPolicy: JSON.stringify({ Statement: [TLS, shaped] }) }),
      policy((p) => {
        p.vault.administrators = ['kura-admin', 'arn:aws:iam::123456789012:role/auditor'];
      }),
    );
    expect(f.map((d) => d.check)).toEqual(['bucket policy: administrators only']);
    expect(f[0]?.actual).toContain('not admitted: arn:aws:iam::123456789012:role/auditor');
  });

  it('flags both statements when there is no bucket policy', () => {
    const f = failing(sound({ bucketPolicy: undefined }));
    expect(f.map((d) => [d.check, d.actual])).toEqual([
      ['bucket policy: TLS-only deny', 'no bucket policy'],
      ['bucket policy: administrators only', 'no bucket policy'],
    ]);
  });

  it('reports a missing vault as one finding and an unreadable setting as a drift', () => {
    expect(failing({ exists: false, unreadable: [] }).map((d) => d.actual)).toEqual(['no such bucket']);
    const f = failing(sound({ unreadable: ['bucket policy: AccessDenied: no'] }));
    expect(f.map((d) => d.actual)).toEqual(['bucket policy: AccessDenied: no']);
  });
});

// rds-snapshot fires daily at 04:00 Asia/Tokyo = 19:00 UTC the day before.
const AT = new Date('2026-11-22T00:00:00Z');
const dbPoint = (day: string, extra: Partial<Point> = {}): Point => ({
  class: 'database',
  source: 'shop-db',
  id: `kura-shop-db-${day.replace(/-/g, '')}1900`,
  time: `${day}T19:00:00.000Z`,
  region: 'ap-northeast-1',
  status: 'available',
  ...extra,
});
const days = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `2026-11-${String(from + i).padStart(2, '0')}`);

describe('series coverage', () => {
  it('lists a missed day as a gap and counts the runs present', () => {
    const pts = days(14, 21)
      .filter((d) => d !== '2026-11-18')
      .map((d) => dbPoint(d));
    const c = sourceCoverage(policy(), 'database', 'shop-db', pts, { at: AT, days: 7 });
    expect(c?.gaps).toEqual([
      {
        from: '2026-11-18T19:00:00.000Z',
        to: '2026-11-18T19:00:00.000Z',
        local: '2026-11-19 04:00 Asia/Tokyo',
        missed: 1,
      },
    ]);
    expect(c?.cells.find((x) => x.day === '2026-11-19')?.state).toBe('missing');
    expect(c?.present).toBe(6);
  });

  it('merges consecutive missed runs into one gap', () => {
    const pts = ['2026-11-15', '2026-11-16', '2026-11-20', '2026-11-21'].map((d) => dbPoint(d));
    const c = sourceCoverage(policy(), 'database', 'shop-db', pts, { at: AT, days: 7 });
    expect(c?.gaps).toEqual([
      {
        from: '2026-11-17T19:00:00.000Z',
        to: '2026-11-19T19:00:00.000Z',
        local: '2026-11-18 04:00 Asia/Tokyo .. 2026-11-20 04:00 Asia/Tokyo',
        missed: 3,
      },
    ]);
  });

  it('counts expected points from the recorded first point, so deleted oldest points are gaps', () => {
    // The two oldest of 7 daily points are gone; the vault recorded the first one.
    const pts = days(16, 21).map((d) => dbPoint(d)); // points of 11-16..11-21 answer the 11-17..11-22 runs
    const without = sourceCoverage(policy(), 'database', 'shop-db', pts.slice(2), { at: AT, days: 7 });
    const withRecord = sourceCoverage(policy(), 'database', 'shop-db', pts.slice(2), {
      at: AT,
      days: 7,
      firstRecorded: '2026-11-16T19:00:00.000Z',
    });
    expect(without?.gaps).toEqual([]);
    expect(without?.countedFrom?.basis).toBe('oldest point present');
    expect(withRecord?.gaps).toEqual([
      {
        from: '2026-11-16T19:00:00.000Z',
        to: '2026-11-17T19:00:00.000Z',
        local: '2026-11-17 04:00 Asia/Tokyo .. 2026-11-18 04:00 Asia/Tokyo',
        missed: 2,
      },
    ]);
    expect(withRecord?.countedFrom).toEqual({ time: '2026-11-16T19:00:00.000Z', basis: 'vault record' });
  });

  it('does not call points pruned by the retention gaps', () => {
    // 7 days kept, 30-day window: the older 23 days are expired, not missing.
    const pts = days(15, 21).map((d) => dbPoint(d));
    const c = sourceCoverage(policy(), 'database', 'shop-db', pts, { at: AT, days: 30 });
    expect(c?.gaps).toEqual([]);
    expect(c?.cells.filter((x) => x.state === 'expired').length).toBeGreaterThan(20);
  });

  it('shows a source with no point at all as missing every kept run', () => {
    const c = sourceCoverage(policy(), 'database', 'gone-db', [], { at: AT, days: 7 });
    expect(c?.present).toBe(0);
    expect(c?.gaps).toHaveLength(1);
    expect(c?.gaps[0]?.missed).toBe(7);
    expect(c?.rpoMinutes).toBeUndefined();
  });

  it('does not count a run that fired within the last hour as missed', () => {
    const pts = days(14, 20).map((d) => dbPoint(d));
    const c = sourceCoverage(policy(), 'database', 'shop-db', pts, {
      at: new Date('2026-11-21T19:30:00Z'),
      days: 7,
    });
    expect(c?.gaps).toEqual([]);
    expect(c?.cells.at(-1)?.state).toBe('pending');
  });

  it('measures the achieved RPO as the age of the newest point and marks validated points', () => {
    const pts = days(15, 21).map((d) => dbPoint(d, d === '2026-11-20' ? { validated: '2026-11-21' } : {}));
    const c = sourceCoverage(policy(), 'database', 'shop-db', pts, { at: AT, days: 7 });
    expect(c?.rpoMinutes).toBe(300);
    expect(c?.newestValidated?.id).toBe('kura-shop-db-202611201900');
    expect(c?.cells.find((x) => x.day === '2026-11-21')?.state).toBe('validated');
  });

  it('does not call a weekly image pruned in favour of an on-demand one a gap', () => {
    // Two generations kept: the 11-21 weekly image and an on-demand one after it; the 11-14 one is gone.
    const p = policy((x) => {
      if (x.images) x.images.generations = 2;
    });
    const img = (time: string): Point => ({
      ...dbPoint('2026-11-21'),
      class: 'image',
      source: 'i-1',
      id: time,
      time,
    });
    const pts = [img('2026-11-21T19:00:00.000Z'), img('2026-11-21T22:00:00.000Z')];
    const c = sourceCoverage(p, 'image', 'i-1', pts, { at: new Date('2026-11-22T01:00:00Z'), days: 14 });
    expect(c?.gaps).toEqual([]);
    expect(c?.cells.find((x) => x.day === '2026-11-15')?.state).toBe('expired');
  });

  it('follows the weekly image cadence: days without a firing are not gaps', () => {
    // ami-backup: Sundays 04:00 Tokyo = Saturday 19:00 UTC.
    const img = (day: string): Point => ({
      ...dbPoint(day),
      class: 'image',
      source: 'i-1',
      id: `ami-${day}`,
    });
    const c = sourceCoverage(policy(), 'image', 'i-1', [img('2026-11-14'), img('2026-11-21')], {
      at: AT,
      days: 14,
    });
    expect(c?.gaps).toEqual([]);
    expect(c?.cells.filter((x) => x.state === 'none').length).toBeGreaterThan(10);
  });
});

describe('inventory report', () => {
  const report = (items: ValidationReport['items']): ValidationReport =>
    buildReport({
      runId: '202611210000',
      time: '2026-11-21T00:00:00.000Z',
      generatedAt: '2026-11-21T00:30:00.000Z',
      region: 'ap-northeast-1',
      configured: { database: true, image: true, content: true, logs: true },
      items,
      leftovers: [],
      problems: [],
      previous: null,
    });

  it('gives per class the worst RPO, the PITR lag and the last measured RTO, and renders the gap', () => {
    const pts = days(15, 21)
      .filter((d) => d !== '2026-11-18')
      .map((d) => dbPoint(d));
    const v = report([
      {
        class: 'database',
        source: 'shop-db',
        recoveryPoint: { id: 'kura-shop-db-202611191900', time: '2026-11-19T19:00:00.000Z', region: 'x' },
        status: 'pass',
        restore: {
          startedAt: '2026-11-21T00:00:00Z',
          finishedAt: '2026-11-21T00:12:00Z',
          durationSeconds: 720,
          rtoMinutes: 30,
          withinRto: true,
        },
        checks: [],
        cleanup: { status: 'done', resources: [] },
      },
    ]);
    const r = inventoryReport({
      policy: policy(),
      at: AT,
      days: 7,
      generatedAt: AT,
      points: pts,
      expectedSources: [{ class: 'database', source: 'shop-db' }],
      pitr: [{ source: 'shop-db', latestRestorableTime: '2026-11-21T23:57:00.000Z' }],
      validations: [v],
      orphans: [{ class: 'image', kind: 'image', id: 'ami-x', region: 'r', reason: 'no <config> record' }],
    });
    const db = r.classes.find((c) => c.class === 'database');
    expect(db?.achievedRpoMinutes).toBe(300);
    expect(db?.pitr).toEqual([
      {
        source: 'shop-db',
        retentionDays: 7,
        latest: '2026-11-21T23:57:00.000Z',
        targetDays: 7,
        lagMinutes: 3,
        targetMinutes: 5,
        drift: [],
      },
    ]);
    expect(db?.rto).toEqual({ runId: '202611210000', measuredMinutes: 12, targetMinutes: 30, within: true });
    expect(db?.newestValidated?.id).toBe('kura-shop-db-202611191900');
    expect(db?.gaps).toBe(1);
    const html = inventoryHtml(r);
    expect(html).toContain('<svg id="coverage"');
    expect(html).toContain(
      'database shop-db: 2026-11-19 04:00 Asia/Tokyo (1 run missed; 2026-11-18T19:00:00.000Z)',
    );
    expect(html).toContain('no &lt;config&gt; record');
  });
});

describe('cost projection', () => {
  it('splits the days to expiry by storage class', () => {
    expect(
      daysPerClass(2528, [
        { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
        { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
        { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 180 },
      ]),
    ).toEqual({ STANDARD: 30, STANDARD_IA: 60, GLACIER_IR: 90, DEEP_ARCHIVE: 2348 });
    expect(daysPerClass(20, [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }])).toEqual({
      STANDARD: 20,
    });
  });

  it('projects logs at their daily intake through the transitions and snapshots as an upper bound', () => {
    const GiB = 1024 ** 3;
    const c = projectCosts(
      policy(),
      [
        {
          name: 'logs: access',
          kind: 'logs',
          bytes: 10 * GiB,
          byStorageClass: { STANDARD: 10 * GiB },
          daysHeld: 10,
          bytesAboveMinSize: 10 * GiB,
        },
        { name: 'content: app1-images', kind: 'content', bytes: GiB, byStorageClass: { STANDARD: GiB } },
        {
          name: 'database snapshots',
          kind: 'database',
          bytes: 2 * 20 * GiB,
          byStorageClass: { RDS_SNAPSHOT: 40 * GiB },
          count: 2,
          sources: 1,
        },
      ],
      STATED_PRICES,
    );
    const logs = c.rows[0];
    // 1 GiB/day; bundles expire at 2557 - 57 = 2500 days; Deep Archive from day 180.
    expect((logs?.steady.DEEP_ARCHIVE ?? 0) / GiB).toBeCloseTo(2320, 0);
    expect(logs?.monthlyNow).toBeCloseTo(0.25, 5);
    expect(c.rows[1]?.monthlySteady).toBeCloseTo(0.025, 5);
    // 7 days kept × 2 regions (database.copy) × 20 GiB.
    expect((c.rows[2]?.steady.RDS_SNAPSHOT ?? 0) / GiB).toBe(280);
    expect(c.rows[2]?.basis).toContain('upper bound');
    expect(c.notes[0]).toContain('STATED, not fetched');
  });

  it('refuses a price file with a missing or negative price, naming each', () => {
    expect(() =>
      parsePrices(
        {
          ...STATED_PRICES,
          perGbMonth: { ...STATED_PRICES.perGbMonth, STANDARD: -1, GLACIER_IR: undefined },
        },
        'p.json',
      ),
    ).toThrow(/perGbMonth\.STANDARD: expected a price >= 0[\s\S]*perGbMonth\.GLACIER_IR/);
  });
});

describe('validation history', () => {
  const one = (runId: string, previous: ValidationReport['previous']) =>
    serializeReport(
      buildReport({
        runId,
        time: `${runId.slice(0, 4)}-${runId.slice(4, 6)}-01T00:00:00.000Z`,
        generatedAt: 'x',
        region: 'r',
        configured: { database: true, image: false, content: false, logs: false },
        items: [],
        leftovers: [],
        problems: [],
        previous,
      }),
    );

  it('lists every run and marks the one whose link is broken', () => {
    const a = { key: 'reports/validation/202609010000/report.json', body: one('202609010000', null) };
    const b = { key: 'reports/validation/202610010000/report.json', body: one('202610010000', null) };
    const h = validationHistory([a, b], AT);
    expect(h.runs.map((r) => [r.runId, r.linked])).toEqual([
      ['202609010000', true],
      ['202610010000', false],
    ]);
    expect(h.chainOk).toBe(false);
    const html = historyHtml(h);
    expect(html).toContain('<svg id="history"');
    expect(html).toContain('BROKEN');
  });

  it('keeps a month-by-month record in which a missed month shows', () => {
    // Runs in September and November; none in October. The validation fires at 09:00 on the 1st (Tokyo).
    const sep = { key: 'reports/validation/202609010000/report.json', body: one('202609010000', null) };
    const nov = { key: 'reports/validation/202611010000/report.json', body: one('202611010000', null) };
    const h = validationHistory([sep, nov], AT, {
      policy: policy(),
      from: new Date('2026-08-15T00:00:00Z'),
      to: AT,
      since: new Date('2026-08-20T00:00:00Z'),
    });
    expect(h.months?.map((m) => [m.month, m.state])).toEqual([
      ['2026-09', 'passed'],
      ['2026-10', 'missed'],
      ['2026-11', 'passed'],
    ]);
    expect(h.months?.[1]?.title).toBe(
      '2026-10: no validation run (scheduled 2026-10-01 09:00 Asia/Tokyo (2026-10-01 00:00 UTC))',
    );
    expect(historyMarkdown(h)).toContain('| 2026-10 | MISSED | - |');
    expect(historyHtml(h)).toContain('<svg id="months"');
  });
});

describe('lifecycle report badge', () => {
  it('counts a differing rule as a drift even when every protection holds', () => {
    // Prepare: the bucket carries the policy's rules, one of them with a shorter expiration.
    const p = policy();
    const rules = lifecycleRules(p).map(toS3LifecycleRule) as ApiRule[];
    const bundle = rules.find((r) => r.ID === 'logs-access-bundles-expire');
    if (bundle?.Expiration) bundle.Expiration.Days = 30;
    const protections = [
      { check: 'versioning', expected: 'Enabled', actual: 'Enabled', ok: true, source: 'x' },
    ];
    // Act
    const rep = { ...lifecycleReport(p, AT, { exists: true, rules }), drift: protections };
    // Assess
    expect(driftSummary(rep)).toBe(
      '1 drift(s): 0 vault protection(s) and 1 lifecycle rule(s) differ from the policy.',
    );
    expect(lifecycleHtml(rep)).toContain('<span class="badge b-bad">1 drift(s)</span>');
    expect(lifecycleMarkdown(rep)).toContain('**1 drift(s): 0 vault protection(s)');
  });
});

describe('report HTML', () => {
  it('escapes text and needs nothing from the network', () => {
    expect(esc(`<script>"x"&'y'</script>`)).toBe(
      '&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;',
    );
    const html = page('t <b>', 's', '<p>x</p>');
    expect(html).toContain('<title>t &lt;b&gt;</title>');
    expect(html).not.toMatch(/<script|<link|src="http|href="http|@import/);
  });
});
