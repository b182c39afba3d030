// Integration (reports): `kura report inventory` over real database snapshots
// in moto lists a missed day as a gap; the CLI's JSON parses; and the HTML of
// the inventory, lifecycle and validation reports, opened in headless
// Chromium, shows a person its charts and its verdict: laid out, visible,
// drawn in the colours that carry the meaning (pixels of a screenshot).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { stringify } from 'yaml';
import type { Clients } from '../../shared/aws/clients.ts';
import { lifecycleHtml, lifecycleReport } from '../../shared/domain/lifecycle/report.ts';
import { projectCosts, STATED_PRICES } from '../../shared/domain/reports/cost.ts';
import { complianceHtml } from '../../shared/domain/reports/compliance.ts';
import { COLOURS } from '../../shared/domain/reports/html.ts';
import { type InventoryReport, inventoryHtml } from '../../shared/domain/reports/inventory.ts';
import { historyHtml, validationHistory } from '../../shared/domain/reports/validation-history.ts';
import { vaultDrift } from '../../shared/domain/reports/vault-drift.ts';
import { managedTags } from '../../shared/domain/tags.ts';
import { buildReport, renderHtml, serializeReport } from '../../shared/domain/validation-report.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { reportPorts } from '../../shared/edge/report-ports.ts';
import { buildComplianceReport } from '../../shared/usecases/report-compliance.ts';
import { buildInventoryReport } from '../../shared/usecases/report-inventory.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { runKura } from '../support/kura-cli.ts';
import { createDatabase } from '../support/rds.ts';
import { launchChromium, layoutOf, openReport, pixelsOf, pngSize } from '../support/render.ts';
import { toolOrSkip } from '../support/tools.ts';

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
  report = await buildInventoryReport({ policy, clients }, reportPorts({ policy, clients }), {
    at: AT,
    days: 7,
  });
});

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

/** A monthly validation report whose database items all passed. */
function passedReport(sources: string[]) {
  return buildReport({
    runId: '202611010000',
    time: '2026-11-01T00:00:00.000Z',
    generatedAt: '2026-11-01T00:20:00.000Z',
    region: 'ap-northeast-1',
    configured: { database: true, image: false, content: false, logs: false },
    items: sources.map((source) => ({
      class: 'database' as const,
      source,
      status: 'pass' as const,
      restore: {
        startedAt: '2026-11-01T00:01:00.000Z',
        finishedAt: '2026-11-01T00:13:00.000Z',
        durationSeconds: 720,
        rtoMinutes: 30,
        withinRto: true,
      },
      checks: [
        { name: 'available', status: 'pass' as const, detail: 'status available' },
        { name: 'sql:orders', status: 'pass' as const, detail: '3 rows' },
      ],
      cleanup: { status: 'done' as const, resources: [] },
    })),
    leftovers: [],
    problems: [],
    previous: null,
  });
}

describe('report HTML as a person sees it, in headless Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });
  /** The shared browser; the check is skipped (or fails under CI) when Chromium is not installed. */
  async function chromium(ctx: TestContext): Promise<Browser> {
    const path = toolOrSkip(ctx, 'chromium');
    browser ??= await launchChromium(path);
    return browser;
  }

  it('draws the coverage chart with the missed day in red among green days, and lists the gap', async (ctx) => {
    const { page, screenshot } = await openReport(await chromium(ctx), inventoryHtml(report), 'inventory');
    expect(pngSize(screenshot).width).toBe(1280);

    const chart = await layoutOf(page, 'svg#coverage');
    expect(chart.visible).toBe(true);
    expect(chart.width).toBeGreaterThan(300);
    const missed = await layoutOf(page, 'svg#coverage rect.cell.missing');
    expect(missed.visible).toBe(true);
    expect(missed.width * missed.height).toBeGreaterThan(100);
    const px = await pixelsOf(page, 'svg#coverage', { missing: COLOURS.missing, present: COLOURS.present });
    // One missed day drawn in red, the six present days in green.
    expect(px.missing).toBeGreaterThanOrEqual(0.8 * missed.width * missed.height);
    expect(px.missing).toBeLessThan(1.5 * missed.width * missed.height);
    expect(px.present).toBeGreaterThanOrEqual(6 * 0.8 * missed.width * missed.height);

    const gap = await layoutOf(page, 'li.gap');
    expect(gap).toMatchObject({
      visible: true,
      text: `database ${db}: 2026-11-19 04:00 Asia/Tokyo (1 run missed; 2026-11-18T19:00:00.000Z)`,
    });
    expect((await layoutOf(page, `td:text-is("kura-${db}-202611211900")`)).visible).toBe(true);
  });

  it('sees a chart as not drawn when it is hidden, covered or blank', async (ctx) => {
    const html = inventoryHtml(report);
    const variants = {
      hidden: html.replace('</style>', 'svg{visibility:hidden}</style>'),
      covered: html.replace('</body>', '<div style="position:fixed;inset:0;background:#fff"></div></body>'),
      blank: html.replace(/fill="#cf222e"/g, 'fill="#ffffff"'),
    };
    const seen: Record<string, { visible: boolean; missing: number }> = {};
    for (const [name, v] of Object.entries(variants)) {
      const { page } = await openReport(await chromium(ctx), v, `inventory-${name}`);
      const cell = await layoutOf(page, 'svg#coverage rect.cell.missing');
      const px = await pixelsOf(page, 'svg#coverage', { missing: COLOURS.missing });
      seen[name] = { visible: cell.visible, missing: px.missing ?? -1 };
    }
    expect(seen).toEqual({
      hidden: { visible: false, missing: 0 },
      covered: { visible: false, missing: 0 },
      blank: { visible: true, missing: 0 },
    });
  });

  it('draws the lifecycle charts in the storage-class colours, the drift verdict and the stated prices', async (ctx) => {
    const p = testPolicy();
    const rep = {
      ...lifecycleReport(p, AT, undefined),
      drift: vaultDrift(p, { exists: true, versioning: 'Suspended', unreadable: [] }),
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
    const { page } = await openReport(await chromium(ctx), lifecycleHtml(rep), 'lifecycle');

    const verdict = await layoutOf(page, 'h2 .badge.b-bad');
    expect(verdict.visible).toBe(true);
    expect(verdict.text).toMatch(/^\d+ drift\(s\)$/);
    expect((await pixelsOf(page, 'h2 .badge.b-bad', { bad: COLOURS.missing })).bad).toBeGreaterThan(100);
    for (const id of ['retention', 'cost']) {
      const chart = await layoutOf(page, `svg#${id}`);
      expect(chart.visible, id).toBe(true);
      expect(chart.width, id).toBeGreaterThan(300);
    }
    const retention = await pixelsOf(page, 'svg#retention', {
      standard: COLOURS.STANDARD,
      deepArchive: COLOURS.DEEP_ARCHIVE,
    });
    expect(retention.standard).toBeGreaterThan(1000);
    expect(retention.deepArchive).toBeGreaterThan(1000);
    expect((await pixelsOf(page, 'svg#cost', { standard: COLOURS.STANDARD })).standard).toBeGreaterThan(100);
    expect((await layoutOf(page, 'p.note b')).text).toBe('Stated prices, not fetched.');
    expect((await layoutOf(page, 'text=logs-access-bundles-transition')).visible).toBe(true);
  });

  it('draws the compliance report on one printable page: the failed control in red, its evidence and policy key', async (ctx) => {
    // Prepare: the same estate (a database with one missed day, no first-point record, no vault).
    const rep = await buildComplianceReport({ policy, clients }, reportPorts({ policy, clients }), {
      from: new Date('2026-06-01T00:00:00Z'),
      to: AT,
      now: AT,
    });
    const html = complianceHtml(rep);

    // Act
    const { page } = await openReport(await chromium(ctx), html, 'compliance');

    // Assess: the three charts drawn; the failed schedule control a red cell and a red row.
    for (const id of ['controls', 'months', 'coverage']) {
      const chart = await layoutOf(page, `svg#${id}`);
      expect(chart.visible, id).toBe(true);
      expect(chart.width, id).toBeGreaterThan(300);
    }
    const failed = await layoutOf(page, 'svg#controls rect.cell.FAIL');
    expect(failed.visible).toBe(true);
    expect((await pixelsOf(page, 'svg#controls', { fail: COLOURS.missing })).fail).toBeGreaterThanOrEqual(
      0.8 * failed.width * failed.height,
    );
    // A failed cell names its control (its tooltip).
    expect(await page.locator('svg#controls rect.cell.FAIL title').allTextContents()).toContainEqual(
      expect.stringMatching(
        new RegExp(`^database/${db}/schedule: FAIL: 1 run\\(s\\) without a recovery point`),
      ),
    );
    const evidence = await layoutOf(
      page,
      'li:text-is("gap: 2026-11-19 04:00 Asia/Tokyo (1 run missed; 2026-11-18T19:00:00.000Z)")',
    );
    expect(evidence.visible).toBe(true);
    expect((await layoutOf(page, 'code:text-is("schedules.rds-snapshot")')).visible).toBe(true);
    expect((await layoutOf(page, 'p.note b')).text).toBe('Read from an emulator');
    // Printable and self-contained: a print stylesheet, no script, nothing fetched.
    expect(html).toContain('@media print');
    expect(html).not.toMatch(/<script|(src|href)=["']?https?:/);
  });

  it('draws the validation history with its passed items in green and the chain verdict', async (ctx) => {
    const monthly = passedReport(['shop-db', 'shop-db-2']);
    const h = validationHistory(
      [{ key: 'reports/validation/202611010000/report.json', body: serializeReport(monthly) }],
      AT,
    );
    const { page } = await openReport(await chromium(ctx), historyHtml(h), 'validation-history');

    const chart = await layoutOf(page, 'svg#history');
    expect(chart.visible).toBe(true);
    expect((await pixelsOf(page, 'svg#history', { pass: COLOURS.ok })).pass).toBeGreaterThan(1000);
    const chain = await layoutOf(page, '.badge.b-ok');
    expect(chain).toMatchObject({ visible: true, text: 'intact' });
    expect((await pixelsOf(page, '.badge.b-ok', { ok: COLOURS.ok })).ok).toBeGreaterThan(100);
    expect((await layoutOf(page, 'td:text-is("PASS")')).visible).toBe(true);
  });

  it("draws the monthly validation report's verdict in green above its items", async (ctx) => {
    const monthly = passedReport(['shop-db']);
    const { page } = await openReport(await chromium(ctx), renderHtml(monthly), 'validation-report');

    const verdict = await layoutOf(page, 'h1 span');
    expect(verdict).toMatchObject({ visible: true, text: 'PASS' });
    expect((await pixelsOf(page, 'h1 span', { green: '#1a7f37' })).green).toBeGreaterThan(20);
    expect((await layoutOf(page, 'td:text-is("shop-db")')).visible).toBe(true);
  });
});
