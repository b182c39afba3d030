// The restore machine's items run in one function per class
// (functions/restore-<class>): each takes its own class's items only, and
// an event that is not an item task is refused before anything is read.
import { describe, expect, it } from 'vitest';
import { run as contentItem } from '../../functions/restore-content/handler.ts';
import { run as restorePlan } from '../../functions/restore/handler.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { onlyStep } from '../../shared/edge/restore-ports.ts';
import { contentRestoreStep, databaseRestoreStep } from '../../shared/edge/restore-steps.ts';
import { loadPolicy } from '../../shared/policy/load.ts';

// Any AWS call would throw: these refusals come before one.
const deps = {
  policy: loadPolicy(),
  clients: new Proxy({}, { get: () => () => Promise.reject(new Error('no AWS call expected')) }),
} as unknown as Deps;

describe('one restore function per class', () => {
  it("a class's function restores its own items and refuses another class's by name", async () => {
    const step = onlyStep(contentRestoreStep);
    expect(await step('content')).toBe(contentRestoreStep);
    await expect(step('database')).rejects.toThrow(
      /item of class database: this function restores content items only/,
    );
    await expect(onlyStep(databaseRestoreStep)('logs')).rejects.toMatchObject({ name: 'InputError' });
  });

  it('an item function takes item tasks only; restore no longer takes them', async () => {
    await expect(contentItem({ step: 'plan', request: {} }, deps)).rejects.toThrow(
      /event\.step: .*expected step item/,
    );
    await expect(restorePlan({ step: 'item', requestId: 'rq-1', key: 'content-a' }, deps)).rejects.toThrow(
      /an item runs in restore-<class>/,
    );
  });
});
