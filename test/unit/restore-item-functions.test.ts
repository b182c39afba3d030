// The restore machine's items run in one function per class
// (functions/restore-<class>): each takes its own class's items only, and
// an event that is not an item task is refused before anything is read.
import { describe, expect, it } from 'vitest';
import { lambdaLogicalId } from '../../deploy/logical-ids.ts';
import { RESTORE_ITEM_FUNCTIONS, VALIDATION_ITEM_FUNCTIONS } from '../../local/iam/functions.ts';
import { loadDefinition } from '../../local/state-machine-runner.ts';
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

/** Each Task state of a definition (nested Map processors included) with its Lambda's logical id and step. */
function tasks(node: unknown, out = new Map<string, { fn?: string; step?: unknown }>()) {
  if (!node || typeof node !== 'object') return out;
  for (const [name, v] of Object.entries(node as Record<string, unknown>)) {
    const st = v as {
      Type?: string;
      Resource?: { 'Fn::GetAtt'?: [string] };
      Parameters?: { step?: unknown };
    };
    if (st && typeof st === 'object' && st.Type === 'Task')
      out.set(name, { fn: st.Resource?.['Fn::GetAtt']?.[0], step: st.Parameters?.step });
    tasks(v, out);
  }
  return out;
}

describe("the role a test takes for a class's restore item", () => {
  it("is the function the restore machine sends that class's items to", () => {
    // Act
    const items = [...tasks(loadDefinition('restore')).entries()].filter(([, t]) => t.step === 'item');

    // Assess: the machine's item states, by class, against local/iam/functions.ts's choice.
    expect(Object.fromEntries(items.map(([name, t]) => [name, t.fn]))).toEqual({
      RestoreDatabaseItem: lambdaLogicalId(RESTORE_ITEM_FUNCTIONS.database),
      RestoreServersItem: lambdaLogicalId(RESTORE_ITEM_FUNCTIONS.image),
      RestoreContentItem: lambdaLogicalId(RESTORE_ITEM_FUNCTIONS.content),
      RestoreLogsItem: lambdaLogicalId(RESTORE_ITEM_FUNCTIONS.logs),
    });
  });

  it("is the function the validation machine sends that class's items to", () => {
    // Act
    const items = [...tasks(loadDefinition('validation')).entries()].filter(([, t]) => t.step === 'restore');

    // Assess: a test's validation restore of a class runs as the function the machine routes it to.
    expect(Object.fromEntries(items.map(([name, t]) => [name, t.fn]))).toEqual({
      RestoreDatabase: lambdaLogicalId(VALIDATION_ITEM_FUNCTIONS.database),
      RestoreImage: lambdaLogicalId(VALIDATION_ITEM_FUNCTIONS.image),
      RestoreContent: lambdaLogicalId(VALIDATION_ITEM_FUNCTIONS.content),
      RestoreLogs: lambdaLogicalId(VALIDATION_ITEM_FUNCTIONS.logs),
    });
  });
});
