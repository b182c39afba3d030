// The validation machine's items run in one function per class
// (functions/validation-<class>), its report in validation-report: each class's
// function takes its own class's items only, and an event meant for another
// function is refused by name before anything is read.
import { describe, expect, it } from 'vitest';
import { run as contentItem } from '../../functions/validation-content/handler.ts';
import { run as databaseItem } from '../../functions/validation-database/handler.ts';
import { run as report } from '../../functions/validation-report/handler.ts';
import { run as plan } from '../../functions/validation-step/handler.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { RESTORE_CLEANUPS } from '../../shared/edge/restore-cleanups.ts';
import { contentRestoreStep } from '../../shared/edge/restore-steps.ts';
import {
  contentItemPorts,
  databaseItemPorts,
  imageItemPorts,
  logsItemPorts,
} from '../../shared/edge/validation-item-ports.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { checkContent } from '../../shared/validation/checks/content.ts';

// Any AWS call would throw: these refusals come before one.
const deps = {
  policy: loadPolicy(),
  clients: new Proxy({}, { get: () => () => Promise.reject(new Error('no AWS call expected')) }),
} as unknown as Deps;

const item = (cls: string) => ({ runId: '202612010000', index: 0, class: cls, source: 'shop' });

describe('one validation function per class', () => {
  it("a class's ports give its own step and check, and refuse another class's by name", async () => {
    const content = contentItemPorts(deps);
    expect(await content.step('content')).toBe(contentRestoreStep);
    expect(await content.check('content')).toBe(checkContent);
    await expect(content.step('database')).rejects.toThrow(
      /item of class database: this function validates content items only/,
    );
    await expect(databaseItemPorts(deps).check('image')).rejects.toMatchObject({ name: 'InputError' });
    await expect(imageItemPorts(deps).step('logs')).rejects.toThrow(/validates image items only/);
    await expect(logsItemPorts(deps).check('content')).rejects.toThrow(/validates logs items only/);
  });

  it("only the database function sweeps stray databases and takes back the snapshot's share", () => {
    expect(databaseItemPorts(deps).database).toBeDefined();
    for (const ports of [imageItemPorts, contentItemPorts, logsItemPorts])
      expect(ports(deps).database).toBeUndefined();
  });

  it('a check adapter can be replaced (a stand-in database), the others stay AWS', () => {
    const run = async () => ({ results: [] });
    const ports = databaseItemPorts(deps, { probeRunner: { run } as never });
    expect(ports.checks.probeRunner).toEqual({ run });
    expect(typeof ports.checks.describeDatabase).toBe('function');
  });

  it('an item function takes item states only; validation-step and validation-report take none', async () => {
    await expect(
      contentItem({ step: 'plan', input: { time: '2026-12-01T00:00:00Z' } }, deps),
    ).rejects.toThrow(/event\.step: .*expected step restore\|check\|cleanup/);
    await expect(
      databaseItem({ step: 'check', input: { item: { ...item('database'), index: 'x' } } }, deps),
    ).rejects.toThrow(/event\.input\.item\.index/);
    await expect(
      plan({ step: 'check', input: { item: item('content'), error: null } }, deps),
    ).rejects.toThrow(/an item runs in validation-<class>/);
    await expect(plan({ step: 'report', input: { time: '2026-12-01T00:00:00Z' } }, deps)).rejects.toThrow(
      /the report in validation-report/,
    );
    await expect(report({ step: 'plan', input: { time: '2026-12-01T00:00:00Z' } }, deps)).rejects.toThrow(
      /expected step report/,
    );
  });

  it("the rehearsal's cleanup has every class's cleanup, and nothing else of the steps", () => {
    expect(Object.keys(RESTORE_CLEANUPS).sort()).toEqual(['content', 'database', 'image', 'logs']);
    for (const [cls, c] of Object.entries(RESTORE_CLEANUPS)) {
      expect(c.class).toBe(cls);
      expect(Object.keys(c).sort()).toEqual(['class', 'cleanup']);
    }
  });
});
