// The compliance report's controls across the period (pure): a missed month,
// a run that checked no data, restore times measured on an emulator, the
// yearly rehearsal, DR copies and the isolated account's use of them, and the
// CSV an auditor opens in a spreadsheet.
import { describe, expect, it } from 'vitest';
import {
  type ComplianceInput,
  type CopyEvidence,
  complianceCsv,
  complianceReport,
  type RehearsalEvidence,
} from '../../shared/domain/reports/compliance.ts';
import type { Point } from '../../shared/domain/reports/coverage.ts';
import { inventoryReport } from '../../shared/domain/reports/inventory.ts';
import { validationHistory } from '../../shared/domain/reports/validation-history.ts';
import { buildReport, type ItemOutcome, serializeReport } from '../../shared/domain/validation-report.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import type { Policy } from '../../shared/policy/schema.ts';

const TO = new Date('2026-11-22T00:00:00Z');
const FROM = new Date('2026-08-15T00:00:00Z');
const SINCE = new Date('2026-08-20T00:00:00Z');

const policy = (): Policy => {
  const p = structuredClone(loadPolicy());
  p.content = [];
  p.logs = undefined;
  p.images = undefined;
  return p;
};

// Daily snapshots 11-14 .. 11-21 (04:00 Tokyo = 19:00 UTC the day before), and their DR copies.
const days = ['13', '14', '15', '16', '17', '18', '19', '20', '21'];
const snap = (d: string, region = 'ap-northeast-1'): Point => ({
  class: 'database',
  source: 'shop-db',
  id: `kura-shop-db-202611${d}1900`,
  time: `2026-11-${d}T19:00:00.000Z`,
  region,
  status: 'available',
});

const item = (over: Partial<ItemOutcome> = {}): ItemOutcome => ({
  class: 'database',
  source: 'shop-db',
  status: 'pass',
  restore: {
    startedAt: '2026-11-01T00:00:00Z',
    finishedAt: '2026-11-01T00:00:03Z',
    durationSeconds: 3,
    rtoMinutes: 30,
    withinRto: true,
  },
  checks: [{ name: 'sql:orders', status: 'pass', detail: '12 rows' }],
  cleanup: { status: 'done', resources: [] },
  ...over,
});

function run(runId: string, items: ItemOutcome[], emulator?: string) {
  const r = buildReport({
    runId,
    time: `${runId.slice(0, 4)}-${runId.slice(4, 6)}-01T00:00:00.000Z`,
    generatedAt: 'x',
    region: 'ap-northeast-1',
    configured: { database: true, image: false, content: false, logs: false },
    items,
    leftovers: [],
    problems: [],
    previous: null,
    ...(emulator ? { emulatorEndpoint: emulator } : {}),
  });
  return { key: `reports/validation/${runId}/report.json`, body: serializeReport(r), report: r };
}

function input(over: Partial<ComplianceInput> & { runs?: ReturnType<typeof run>[] } = {}): ComplianceInput {
  const p = over.policy ?? policy();
  const runs = over.runs ?? [];
  const points = [...days.map((d) => snap(d)), ...days.slice(0, -1).map((d) => snap(d, 'ap-southeast-1'))];
  const inventory = inventoryReport({
    policy: p,
    at: TO,
    days: 99,
    generatedAt: TO,
    points,
    expectedSources: [{ class: 'database', source: 'shop-db' }],
    pitr: [{ source: 'shop-db', latestRestorableTime: '2026-11-21T23:58:00.000Z', backupRetentionDays: 7 }],
    validations: runs.map((r) => r.report),
    orphans: [],
    firstRecorded: new Map([['database shop-db', { time: '2026-11-13T19:00:00.000Z' }]]),
  });
  const copies: CopyEvidence[] = days.map((d) => ({
    ...snap(d),
    class: 'database',
    sharedWithIsolated: true,
    encrypted: false,
  }));
  return {
    policy: p,
    from: FROM,
    to: TO,
    generatedAt: TO,
    inventory,
    history: validationHistory(runs, TO, { policy: p, from: FROM, to: TO, since: SINCE }),
    validations: runs.map((r) => r.report),
    copies,
    rehearsals: [],
    since: SINCE,
    ...over,
  };
}

const status = (i: ComplianceInput, id: string) => complianceReport(i).controls.find((c) => c.id === id);

describe('compliance controls across the period', () => {
  const every = [run('202609010000', [item()]), run('202610010000', [item()]), run('202611010000', [item()])];

  it('passes the monthly control when every month since kura began has a passing validation', () => {
    expect(status(input({ runs: every }), 'validation/validation-monthly')?.status).toBe('PASS');
  });

  it('fails the monthly control for a missed month, naming it', () => {
    const c = status(input({ runs: [every[0], every[2]] as typeof every }), 'validation/validation-monthly');
    expect(c).toMatchObject({ status: 'FAIL', finding: '1 month(s) missed or failed: 2026-10 MISSED' });
  });

  it('fails the data control for a run that checked only infrastructure', () => {
    const infra = run('202610010000', [
      item({ checks: [{ name: 'available', status: 'pass', detail: 'ok' }] }),
    ]);
    const c = status(
      input({ runs: [every[0], infra, every[2]] as typeof every }),
      'validation/validation-data',
    );
    expect(c).toMatchObject({
      status: 'FAIL',
      finding: '1 run(s) checked only infrastructure for: 202610010000 (database shop-db)',
    });
  });

  it('labels restore times measured on an emulator', () => {
    const emu = [run('202611010000', [item()], 'http://127.0.0.1:5000')];
    const c = status(input({ runs: emu }), 'validation/restore-time');
    expect(c?.status).toBe('PASS');
    expect(c?.emulator).toBe(true);
    expect(c?.finding).toContain('(measured on an emulator: not AWS figures)');
  });

  it('fails the restore-time control for a restore over its RTO', () => {
    const slow = item({
      restore: {
        startedAt: 'a',
        finishedAt: 'b',
        durationSeconds: 45 * 60,
        rtoMinutes: 30,
        withinRto: false,
      },
    });
    const c = status(input({ runs: [run('202611010000', [slow])] }), 'validation/restore-time');
    expect(c).toMatchObject({
      status: 'FAIL',
      finding: '1 restore(s) over the RTO: validation 202611010000 database shop-db 45 min of 30',
    });
  });

  it('counts a succeeded rehearsal, is not evaluated in kura first year without one, and fails after it', () => {
    const rehearsal: RehearsalEvidence = {
      requestId: 'rq-1',
      reason: 'yearly rehearsal',
      status: 'SUCCEEDED',
      startedAt: '2026-10-10T00:00:00.000Z',
      classes: ['database'],
      items: [],
    };
    expect(status(input({ rehearsals: [rehearsal] }), 'validation/rehearsal')?.status).toBe('PASS');
    expect(status(input(), 'validation/rehearsal')?.status).toBe('NOT EVALUATED');
    expect(status(input({ since: new Date('2025-01-01T00:00:00Z') }), 'validation/rehearsal')?.status).toBe(
      'FAIL',
    );
  });
});

describe('compliance controls per source', () => {
  it('passes DR copy and isolated use when every settled point has both, and names what is missing', () => {
    const ok = input();
    expect(status(ok, 'database/shop-db/dr-copy')?.status).toBe('PASS');
    expect(status(ok, 'database/shop-db/isolated-use')?.status).toBe('PASS');
    const unshared = input({
      copies: ok.copies.map((c, n) => (n === 2 ? { ...c, sharedWithIsolated: false } : c)),
    });
    expect(status(unshared, 'database/shop-db/isolated-use')).toMatchObject({
      status: 'FAIL',
      finding: 'kura-shop-db-202611151900 is not shared with 210987654321',
    });
  });

  it('names the policy key of each control', () => {
    const r = complianceReport(input());
    expect(Object.fromEntries(r.controls.map((c) => [c.id, c.policyKey]))).toMatchObject({
      'database/shop-db/schedule': 'schedules.rds-snapshot',
      'database/shop-db/retention': 'database.retainDays, database.minGenerations',
      'database/shop-db/point-in-time': 'database.retainDays, database.rpoMinutes',
      'database/shop-db/dr-copy': 'database.copy.region',
      'validation/validation-monthly': 'schedules.validation',
    });
  });
});

describe('compliance CSV', () => {
  it('is one row per control with quoted fields, readable by a spreadsheet', () => {
    const csv = complianceCsv(complianceReport(input()));
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'id,status,area,source,control,policy key,requirement,finding,evidence,not evaluated because,emulator,period from,period to',
    );
    expect(lines).toHaveLength(complianceReport(input()).controls.length + 1);
    expect(csv).toContain('"database.retainDays, database.minGenerations"');
  });
});
