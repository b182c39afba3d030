// Integration (reports): `kura report permissions` reads the packaged
// template, the IAM front layer's journal of this very run and the
// must-never checks; its JSON says, per role, what was granted and what was
// used, and its HTML, opened in headless Chromium, shows a person the chart,
// the roles and the must-never checks.
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { PermissionsReport } from '../../shared/domain/reports/permissions.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { clock, emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { rdsSnapshot } from '../support/functions.ts';
import { runKura } from '../support/kura-cli.ts';
import { packagedTemplate, TEMPLATE } from '../support/packaged-template.ts';
import { createDatabase } from '../support/rds.ts';
import { launchChromium, layoutOf, openReport, pixelsOf } from '../support/render.ts';
import { toolOrSkip } from '../support/tools.ts';

let policy: Policy;
const journal = () => join(inject('iamRunDir'), 'requests.jsonl');

beforeAll(async () => {
  await packagedTemplate();
  // Prepare: one scheduled run of rds-snapshot as its role, so the journal holds its calls.
  const clients = emulatorClients();
  policy = testPolicy((p) => {
    if (p.database) p.database.copy = undefined;
  });
  const db = `perm-${uniqueSuffix()}`;
  await createDatabase(clients, db, { [policy.selector.tagKey]: policy.selector.tagValue });
  // At its scheduled time, on this file's simulated clock.
  clock.set(new Date('2026-11-20T19:00:00Z'));
  await rdsSnapshot(
    {
      time: '2026-11-20T19:00:00Z',
      source: 'kura.test',
      'detail-type': 'Scheduled Event',
      detail: {},
    } as never,
    { policy, clients },
  );
}, 300_000);

describe('kura report permissions', () => {
  it('prints JSON with used against granted per role, and every must-never check holding', async () => {
    // Act
    const r = await runKura([
      'report',
      'permissions',
      '--format',
      'json',
      '--requests',
      journal(),
      '--template',
      TEMPLATE,
    ]);

    // Assess
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as PermissionsReport;
    expect(rep.kind).toBe('kura.permissions-report');
    const rds = rep.roles.find((x) => x.role === 'RdsSnapshotRole');
    expect(rds?.did.find((d) => d.action === 'rds:CreateDBSnapshot')?.calls).toBeGreaterThan(0);
    expect(rds?.grants.find((g) => g.action === 'rds:CreateDBSnapshot')?.used).toBeGreaterThan(0);
    expect(rds?.usedGrants).toBeGreaterThan(0);
    expect(rds?.usedGrants).toBeLessThanOrEqual(rds?.totalGrants ?? 0);
    expect(rep.roles.map((x) => x.role)).toEqual(
      expect.arrayContaining([
        'RdsSnapshotRole',
        'ContentBackupRole',
        'SchedulerRole',
        'kura-restore (isolated)',
      ]),
    );
    expect(rep.mustNever.length).toBeGreaterThanOrEqual(9);
    expect(rep.mustNever.filter((m) => !m.holds)).toEqual([]);
  });

  it('draws the used/granted chart and shows the roles and the must-never checks, in headless Chromium', async (ctx) => {
    // Prepare: the check is skipped (or fails under CI) when Chromium is not installed.
    const path = toolOrSkip(ctx, 'chromium');
    const r = await runKura([
      'report',
      'permissions',
      '--format',
      'html',
      '--requests',
      journal(),
      '--template',
      TEMPLATE,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const browser = await launchChromium(path);
    try {
      // Act
      const { page } = await openReport(browser, r.stdout, 'permissions');

      // Assess: the chart is drawn, with used grants in green; the role, a must-never check
      // and a used action are on the page where a person can see them.
      const chart = await layoutOf(page, 'svg[aria-label="used/granted per role"]');
      expect(chart.visible).toBe(true);
      expect(chart.width).toBeGreaterThan(300);
      const px = await pixelsOf(page, 'svg[aria-label="used/granted per role"]', { used: '#2da44e' });
      expect(px.used).toBeGreaterThan(100);
      expect((await layoutOf(page, 'h2#RdsSnapshotRole')).visible).toBe(true);
      expect(
        (
          await layoutOf(
            page,
            'text=no kura role can delete or overwrite a recovery point that kura did not create',
          )
        ).visible,
      ).toBe(true);
      expect((await layoutOf(page, 'tr:has(td:text-is("rds:CreateDBSnapshot"))')).text).toMatch(
        /rds:CreateDBSnapshot.*[^\d][1-9]\d*$/,
      );
    } finally {
      await browser.close();
    }
  });

  it('refuses a journal that does not exist, saying how to make one', async () => {
    const r = await runKura([
      'report',
      'permissions',
      '--requests',
      '/nonexistent/requests.jsonl',
      '--template',
      TEMPLATE,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--requests \/nonexistent\/requests\.jsonl: not found; run `npm test`/);
  });
});
