// The validation report model: verdict, RTO, rendering and the hash chain. Pure.
import { describe, expect, it } from 'vitest';
import {
  buildReport,
  type ItemOutcome,
  renderHtml,
  renderMarkdown,
  type ReportInput,
  rtoMinutesFor,
  serializeReport,
  sha256Hex,
  verdictText,
  verifyChain,
} from '../../shared/domain/validation-report.ts';
import { evaluateProbe } from '../../shared/validation/checks/sql-probe.ts';

const passing: ItemOutcome = {
  class: 'database',
  source: 'shop-db',
  recoveryPoint: {
    id: 'kura-shop-db-202610311900',
    time: '2026-10-31T19:00:00.000Z',
    region: 'ap-northeast-1',
  },
  status: 'pass',
  restore: {
    startedAt: '2026-11-01T00:00:00Z',
    finishedAt: '2026-11-01T00:12:00Z',
    durationSeconds: 720,
    rtoMinutes: 30,
    withinRto: true,
  },
  checks: [
    { name: 'available', status: 'pass', detail: 'status available' },
    { name: 'sql:orders', status: 'pass', detail: '12 rows (expected at least 1)', value: 12 },
  ],
  cleanup: { status: 'done', resources: ['AWS::RDS::DBInstance kura-v-1-shop-db'] },
};

const input = (items: ItemOutcome[], over: Partial<ReportInput> = {}): ReportInput => ({
  runId: '202611010000',
  time: '2026-11-01T00:00:00.000Z',
  generatedAt: '2026-11-01T00:20:00.000Z',
  region: 'ap-northeast-1',
  configured: { database: true, image: false, content: true, logs: false },
  items,
  leftovers: [],
  problems: [],
  previous: null,
  ...over,
});

describe('validation report', () => {
  it('passes when every item restored within its RTO, checked and cleaned up, and warns about a class with nothing to validate', () => {
    // Act
    const r = buildReport(input([passing]));

    // Assess
    expect(r.verdict).toBe('PASS');
    expect(r.warnings).toEqual(['content: nothing to validate: no kura-managed recovery point']);
    expect(r.classes.find((c) => c.class === 'image')?.note).toBe('not configured in the policy');
  });

  it('says a PASS that checked no data is infrastructure only, in its verdict, warnings and renderings', () => {
    // Prepare: the same restore, with no SQL probe (only the instance was looked at).
    const infraOnly: ItemOutcome = {
      ...passing,
      checks: [passing.checks[0] as ItemOutcome['checks'][number]],
    };
    // Act
    const full = buildReport(input([passing]));
    const r = buildReport(input([infraOnly]));
    // Assess
    expect(verdictText(full)).toBe('PASS');
    expect(r.verdict).toBe('PASS');
    expect(verdictText(r)).toBe('PASS (infrastructure only: no data checked)');
    expect(r.warnings).toContain(
      'no data was checked for database shop-db: only that the restore worked (infrastructure); add validation.sqlProbes for databases',
    );
    expect(renderMarkdown(r)).toContain(
      '# kura validation 202611010000: PASS (infrastructure only: no data checked)',
    );
    expect(renderHtml(r)).toContain('PASS (infrastructure only: no data checked)');
  });

  it('shows its times in the policy zone next to UTC', () => {
    const r = buildReport(input([passing]));
    expect(renderMarkdown(r, 'Asia/Tokyo')).toContain(
      'Scheduled 2026-11-01 09:00 Asia/Tokyo (2026-11-01 00:00 UTC), generated 2026-11-01 09:20 Asia/Tokyo (2026-11-01 00:20 UTC)',
    );
    expect(renderHtml(r, 'Asia/Tokyo')).toContain(
      'Scheduled 2026-11-01 09:00 Asia/Tokyo (2026-11-01 00:00 UTC)',
    );
  });

  it('labels restore times measured on an emulator as not AWS figures', () => {
    const r = buildReport(input([passing], { emulatorEndpoint: 'http://127.0.0.1:5000' }));
    expect(r.measuredOn).toEqual({ kind: 'emulator', endpoint: 'http://127.0.0.1:5000' });
    expect(r.warnings).toContain(
      "measured on an emulator (http://127.0.0.1:5000): restore times are the emulator's, not AWS's, and say nothing about the RTO",
    );
    expect(renderMarkdown(r)).toContain('12.0 min / RTO 30 min (emulator: not an AWS figure)');
    expect(renderMarkdown(buildReport(input([passing])))).not.toContain('emulator');
  });

  it('fails an item over its RTO, a failed check, a failed cleanup and anything left behind, each with its reason', () => {
    // Prepare
    const slow = {
      ...passing,
      source: 'slow-db',
      restore: {
        ...passing.restore!,
        durationSeconds: 2400,
        finishedAt: '2026-11-01T00:40:00Z',
        withinRto: false,
      },
    };
    const bad = {
      ...passing,
      source: 'bad-db',
      checks: [{ name: 'engine', status: 'fail' as const, detail: 'engine postgres (backup: mysql)' }],
    };
    const dirty = {
      ...passing,
      source: 'dirty-db',
      cleanup: { status: 'failed' as const, detail: 'AccessDenied', resources: [] },
    };

    // Act
    const r = buildReport(
      input([slow, bad, dirty], { leftovers: ['AWS::RDS::DBInstance kura-v-1-dirty-db (available)'] }),
    );

    // Assess
    expect(r.verdict).toBe('FAIL');
    expect(r.items.map((i) => [i.source, i.status, i.reason])).toEqual([
      ['slow-db', 'fail', 'restore took 40 min, over the RTO of 30 min'],
      ['bad-db', 'fail', 'engine: engine postgres (backup: mysql)'],
      ['dirty-db', 'fail', 'cleanup failed: AccessDenied'],
    ]);
    expect(r.summary).toContain(
      'left behind in the isolated account: AWS::RDS::DBInstance kura-v-1-dirty-db',
    );
  });

  it('measures data classes against the data RTO, images against the system RTO and logs against the logs RTO', () => {
    const rto = { dataMinutes: 30, systemMinutes: 180, logsMinutes: 45 };
    expect([
      rtoMinutesFor('database', rto),
      rtoMinutesFor('content', rto),
      rtoMinutesFor('image', rto),
      rtoMinutesFor('logs', rto),
    ]).toEqual([30, 30, 180, 45]);
  });

  it('escapes what it renders in HTML and names the previous report in both human forms', () => {
    // Prepare
    const r = buildReport(
      input([{ ...passing, source: '<script>x</script>' }], {
        previous: { key: 'reports/validation/202610010000/report.json', sha256: 'ab'.repeat(32) },
      }),
    );

    // Act
    const html = renderHtml(r);
    const md = renderMarkdown(r);

    // Assess
    expect(html).not.toContain('<script>x');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html).toContain('reports/validation/202610010000/report.json');
    expect(md).toContain(`sha256 ${'ab'.repeat(32)}`);
  });

  it('verifies a chain and pinpoints a changed, removed or unlinked report', () => {
    // Prepare
    const entries: { key: string; body: string }[] = [];
    for (const runId of ['202609010000', '202610010000', '202611010000']) {
      const prev = entries.at(-1);
      const body = serializeReport(
        buildReport(
          input([passing], {
            runId,
            previous: prev ? { key: prev.key, sha256: sha256Hex(prev.body) } : null,
          }),
        ),
      );
      entries.push({ key: `reports/validation/${runId}/report.json`, body });
    }

    // Act
    const intact = verifyChain(entries);
    const changed = verifyChain(
      entries.map((e, i) => (i === 0 ? { ...e, body: e.body.replace('PASS', 'FAIL') } : e)),
    );
    const removed = verifyChain([entries[0]!, entries[2]!]);
    const cut = verifyChain(entries.slice(1));

    // Assess
    expect(intact.ok).toBe(true);
    expect(changed.problems).toEqual([
      expect.stringMatching(
        /^reports\/validation\/202610010000\/report\.json: previous is .*a report was changed, removed or inserted/,
      ),
    ]);
    expect(removed.ok).toBe(false);
    expect(cut.problems[0]).toContain(
      'names a previous report reports/validation/202609010000/report.json that is not in the chain',
    );
  });
});

describe('SQL probe evaluation', () => {
  const at = new Date('2026-11-01T04:00:00Z');

  it('reads the newest row from a DATETIME string, a Date or epoch seconds as the same RPO', () => {
    const probe = { name: 'p', kind: 'latestRowAge' as const, sql: '' };
    const values = ['2026-11-01 03:45:00', new Date('2026-11-01T03:45:00Z'), 1793504700];
    expect(values.map((v) => evaluateProbe(probe, v, at).rpoMinutes)).toEqual([15, 15, 15]);
  });

  it('defaults a row count minimum to one row', () => {
    expect(evaluateProbe({ name: 'p', kind: 'rowCount', sql: '' }, 0, at).status).toBe('fail');
    expect(evaluateProbe({ name: 'p', kind: 'rowCount', sql: '' }, '1', at).status).toBe('pass');
  });
});

describe('validation report with source accounts', () => {
  const from = (
    account: string,
    sourceRegion: string,
    status: ItemOutcome['status'] = 'pass',
  ): ItemOutcome => ({
    ...passing,
    account,
    sourceRegion,
    recoveryPoint: {
      ...(passing.recoveryPoint as NonNullable<ItemOutcome['recoveryPoint']>),
      id: `kura-shop-db-202610311900-${account}-${sourceRegion}`,
    },
    status,
    ...(status === 'fail' ? { restore: undefined, reason: 'restore failed: boom' } : {}),
  });

  it("shows each item's source account and region, and a summary per account", () => {
    // Act: two accounts with a database of one name, one of them in two regions
    const r = buildReport(
      input([
        from('333333333333', 'ap-northeast-1'),
        from('444444444444', 'ap-northeast-1'),
        from('444444444444', 'us-west-2', 'fail'),
      ]),
    );

    // Assess
    expect(r.accounts).toEqual([
      { account: '333333333333', regions: ['ap-northeast-1'], items: 1, passed: 1, failed: 0, skipped: 0 },
      {
        account: '444444444444',
        regions: ['ap-northeast-1', 'us-west-2'],
        items: 2,
        passed: 1,
        failed: 1,
        skipped: 0,
      },
    ]);
    expect(r.summary).toContain('database shop-db (444444444444 us-west-2): restore failed: boom');
    const md = renderMarkdown(r);
    expect(md).toContain('| class | source | account | source region | recovery point |');
    expect(md).toContain(
      '| database | shop-db | 444444444444 | us-west-2 | kura-shop-db-202610311900-444444444444-us-west-2 |',
    );
    expect(md).toContain(
      '- account 444444444444 (ap-northeast-1, us-west-2): 2 item(s), 1 passed, 1 failed, 0 skipped',
    );
    const html = renderHtml(r);
    expect(html).toContain('<th>account</th><th>source region</th>');
    expect(html).toContain('<td>shop-db</td><td>333333333333</td><td>ap-northeast-1</td>');
    expect(html).toContain('<h2>Per source account</h2>');
  });

  it('shows no account columns and no per-account summary in single-account mode', () => {
    const r = buildReport(input([passing]));
    expect(r.accounts).toBeUndefined();
    expect(JSON.stringify(r)).not.toContain('"account');
    expect(renderMarkdown(r)).toContain('| class | source | recovery point |');
    expect(renderMarkdown(r)).not.toContain('source account');
    expect(renderHtml(r)).not.toContain('<th>account</th>');
  });
});
