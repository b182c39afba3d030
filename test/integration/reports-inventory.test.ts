// Integration (reports): `kura report inventory` over real database snapshots
// in moto lists a missed day as a gap; the CLI's JSON parses; and the HTML of
// the inventory, lifecycle and validation reports renders in headless
// Chromium with its chart and key rows in the DOM.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Clients } from '../../shared/aws/clients.ts';
import { lifecycleHtml, lifecycleReport } from '../../shared/domain/lifecycle/report.ts';
import { projectCosts, STATED_PRICES } from '../../shared/domain/reports/cost.ts';
import { complianceHtml } from '../../shared/domain/reports/compliance.ts';
import { type InventoryReport, inventoryHtml } from '../../shared/domain/reports/inventory.ts';
import { historyHtml, validationHistory } from '../../shared/domain/reports/validation-history.ts';
import { managedTags } from '../../shared/domain/tags.ts';
import { buildReport, serializeReport } from '../../shared/domain/validation-report.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { buildComplianceReport } from '../../shared/usecases/report-compliance.ts';
import { buildInventoryReport } from '../../shared/usecases/report-inventory.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { runKura } from '../support/kura-cli.ts';
import { createDatabase } from '../support/rds.ts';

// rds-snapshot fires at 04:00 Asia/Tokyo = 19:00 UTC the day before.
const AT = new Date('2026-11-22T00:00:00Z');
const DAYS = ['2026-11-15', '2026-11-16', '2026-11-17', '2026-11-19', '2026-11-20', '2026-11-21']; // no 11-18

let clients: Clients;
let policy: Policy;
let db: string;
let report: InventoryReport;

/** A database with kura's daily snapshots, one day missing, and no vault at all. */
beforeAll(async () => {
  clients = emulatorClients();
  const sfx = uniqueSuffix();
  policy = testPolicy((p) => {
    p.vault.bucket = `kura-vault-inventory-${sfx}`;
    p.content = [];
    p.logs = undefined;
    p.images = undefined;
    if (p.database) p.database.copy = undefined;
  });
  db = `inv-${sfx}`;
  await createDatabase(clients, db, { [policy.selector.tagKey]: policy.selector.tagValue });
  for (const day of DAYS) {
    const time = new Date(`${day}T19:00:00Z`);
    const tags = managedTags({ backupClass: 'database', source: db, time, createdBy: 'test' });
    await clients.get(RDSClient).send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: db,
        DBSnapshotIdentifier: `kura-${db}-${day.replace(/-/g, '')}1900`,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }
  report = await buildInventoryReport({ policy, clients }, { at: AT, days: 7 });
});

/** Headless Chromium's DOM of a page; the test fails, by name, when Chromium is missing. */
function renderedDom(html: string, name: string): string {
  const found = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    throw new Error(
      'chromium was not found on PATH: the report render check needs headless Chromium (Debian: apt-get install chromium; .ci/run installs it)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'kura-render-'));
  const file = join(dir, `${name}.html`);
  writeFileSync(file, html);
  const r = spawnSync(
    found,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(dir, 'profile')}`,
      '--dump-dom',
      `file://${file}`,
    ],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`chromium exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

describe('kura report inventory', () => {
  it('lists the missed day of a daily series as a gap, with the runs present', () => {
    const s = report.series.find((x) => x.class === 'database' && x.source === db);
    expect(s?.gaps).toEqual([
      {
        from: '2026-11-18T19:00:00.000Z',
        to: '2026-11-18T19:00:00.000Z',
        local: '2026-11-19 04:00 Asia/Tokyo',
        missed: 1,
      },
    ]);
    expect(s?.present).toBe(6);
    expect(s?.cells.find((c) => c.day === '2026-11-19')?.state).toBe('missing');
    expect(report.classes.find((c) => c.class === 'database')?.achievedRpoMinutes).toBe(300);
    expect(report.points.filter((p) => p.source === db)).toHaveLength(6);
  });

  it('prints JSON that parses, with the gap in it', async () => {
    const file = join(tmpdir(), `kura-inventory-${db}.yml`);
    writeFileSync(file, stringify(policy));
    const r = await runKura([
      '--policy',
      file,
      'report',
      'inventory',
      '--format',
      'json',
      '--at',
      AT.toISOString(),
      '--days',
      '7',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as InventoryReport;
    expect(rep.kind).toBe('kura.inventory-report');
    expect(rep.series.find((s) => s.source === db)?.gaps[0]?.from).toBe('2026-11-18T19:00:00.000Z');
  });
});

describe('report HTML in headless Chromium', () => {
  it('renders the inventory with its coverage chart, the gap and the points', () => {
    const dom = renderedDom(inventoryHtml(report), 'inventory');
    expect(dom).toContain('<svg id="coverage"');
    expect(dom).toMatch(/<rect class="cell missing"/);
    expect(dom).toContain(
      `database ${db}: 2026-11-19 04:00 Asia/Tokyo (1 run missed; 2026-11-18T19:00:00.000Z)`,
    );
    expect(dom).toContain(`kura-${db}-202611211900`);
  });

  it('renders the lifecycle report with its charts and the stated prices', () => {
    const p = testPolicy();
    const rep = {
      ...lifecycleReport(p, AT, undefined),
      costs: projectCosts(
        p,
        [
          {
            name: 'content: app1-images',
            kind: 'content',
            bytes: 2 ** 30,
            byStorageClass: { STANDARD: 2 ** 30 },
          },
        ],
        STATED_PRICES,
      ),
    };
    const dom = renderedDom(lifecycleHtml(rep), 'lifecycle');
    expect(dom).toContain('<svg id="retention"');
    expect(dom).toContain('<svg id="cost"');
    expect(dom).toContain('Stated prices, not fetched.');
    expect(dom).toContain('logs-access-bundles-transition');
  });

  it('renders the compliance report on one printable page with its charts, controls and evidence', async () => {
    // Prepare: the same estate (a database with one missed day, no first-point record, no vault).
    const rep = await buildComplianceReport(
      { policy, clients },
      { from: new Date('2026-11-01T00:00:00Z'), to: AT, now: AT },
    );
    // Act
    const dom = renderedDom(complianceHtml(rep), 'compliance');
    // Assess
    expect(dom).toContain('<svg id="controls"');
    expect(dom).toContain('<svg id="months"');
    expect(dom).toContain('<svg id="coverage"');
    expect(dom).toMatch(/<rect class="cell FAIL"/);
    expect(dom).toContain('@media print');
    expect(dom).toContain(`database/${db}/schedule: FAIL`);
    expect(dom).toContain('2026-11-19 04:00 Asia/Tokyo (1 run missed; 2026-11-18T19:00:00.000Z)');
    expect(dom).toContain('schedules.rds-snapshot');
    expect(dom).toContain('Read from an emulator');
    // Self-contained: no script, nothing fetched.
    expect(dom).not.toMatch(/<script|(src|href)=["']?https?:/);
  });

  it('renders the validation history with its chart and chain status', () => {
    const body = serializeReport(
      buildReport({
        runId: '202611010000',
        time: '2026-11-01T00:00:00.000Z',
        generatedAt: '2026-11-01T00:20:00.000Z',
        region: 'ap-northeast-1',
        configured: { database: true, image: false, content: false, logs: false },
        items: [],
        leftovers: [],
        problems: [],
        previous: null,
      }),
    );
    const h = validationHistory([{ key: 'reports/validation/202611010000/report.json', body }], AT);
    const dom = renderedDom(historyHtml(h), 'validation');
    expect(dom).toContain('<svg id="history"');
    expect(dom).toContain('202611010000');
    expect(dom).toContain('intact');
  });
});
