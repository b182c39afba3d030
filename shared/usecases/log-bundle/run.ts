// Use case (logs, monthly bundles): the entry points: every due group in one
// run (`logBundle`), and the state machine's plan and per-group steps.
import { loosePrefix, parseLooseKey } from '../../domain/logs/keys.ts';
import { bundleCutoff, isBundleDue } from '../../domain/logs/months.ts';
import type { Policy } from '../../policy/schema.ts';
import { InputError } from '../../runtime/errors.ts';
import { forEachTarget, newRunResult, type RunResult } from '../../runtime/result.ts';
import { dueGroups, FUNCTION_NAME, type Group, type GroupItem, type LogBundlePorts } from './groups.ts';
import { bundleGroup, type GroupOptions } from './bundle-group.ts';

export async function logBundle(now: Date, policy: Policy, ports: LogBundlePorts): Promise<RunResult> {
  const result = newRunResult(FUNCTION_NAME, now);
  const logs = policy.logs;
  if (!logs) {
    result.warnings.push('the policy has no logs section: nothing to do');
    return result;
  }
  const cutoff = bundleCutoff(now, policy.timezone, logs.keepMonths);
  result.bundlesBefore = cutoff;
  const groups = await dueGroups(ports.store, policy, cutoff, result.warnings);
  const clock = ports.clock ?? (() => new Date());
  result.targets = await forEachTarget(
    groups,
    (g) => `${g.logClass}/${g.host}/${g.month}`,
    // In one invocation (kura invoke, the demo): every group to the end, whatever it takes.
    async (g, outcome) => {
      await bundleGroup(ports, policy, g, now, clock, outcome, result.metrics, {
        budgetMs: Number.POSITIVE_INFINITY,
      });
    },
  );
  const failed = result.targets.filter((t) => t.status === 'failed').length;
  result.metrics.push({ name: 'TargetFailures', value: failed, unit: 'Count' });
  result.ok = failed === 0;
  return result;
}

/** The plan step: the due groups, as the Map's items (no bundling). */
export async function planLogBundle(
  now: Date,
  policy: Policy,
  ports: LogBundlePorts,
): Promise<RunResult & { items: GroupItem[]; complete: boolean }> {
  const result = newRunResult(FUNCTION_NAME, now);
  const logs = policy.logs;
  if (!logs) {
    result.warnings.push('the policy has no logs section: nothing to do');
    return { ...result, items: [], complete: true };
  }
  const cutoff = bundleCutoff(now, policy.timezone, logs.keepMonths);
  result.bundlesBefore = cutoff;
  const groups = await dueGroups(ports.store, policy, cutoff, result.warnings);
  const items = groups.map(({ logClass, host, month }) => ({ logClass, host, month }));
  return { ...result, items, complete: true };
}

/**
 * One Map child: bundles one (class, host, month) group, listing only that
 * month of that host, or the next slice of it: `complete` false means the
 * state machine invokes it again and it continues from its multipart upload.
 */
export async function bundleLogGroup(
  now: Date,
  policy: Policy,
  ports: LogBundlePorts,
  item: GroupItem,
  options: GroupOptions = {},
): Promise<RunResult & { complete: boolean }> {
  const result = newRunResult(FUNCTION_NAME, now);
  const logs = policy.logs;
  if (!logs?.classes[item.logClass])
    throw new InputError([
      `item.logClass: "${item.logClass}" is not a log class of the policy; expected one of ${Object.keys(logs?.classes ?? {}).join(', ') || '(none)'}`,
    ]);
  const cutoff = bundleCutoff(now, policy.timezone, logs.keepMonths);
  // Never bundle a month the policy still keeps loose, whatever the item says.
  if (!isBundleDue(item.month, cutoff))
    throw new InputError([
      `item.month: ${item.month} is not due for bundling at ${now.toISOString()}; expected a month before ${cutoff}`,
    ]);
  const files: Group['files'] = [];
  for (const obj of await ports.store.list(
    policy.vault.bucket,
    loosePrefix(item.logClass, item.host, `${item.month}-`),
  )) {
    const ref = parseLooseKey(obj.key);
    if (ref && ref.host === item.host && ref.day.startsWith(`${item.month}-`)) files.push({ ...ref, obj });
  }
  const clock = ports.clock ?? (() => new Date());
  let complete = true;
  result.targets = await forEachTarget(
    [{ ...item, files }],
    (g) => `${g.logClass}/${g.host}/${g.month}`,
    async (g, outcome) => {
      complete = await bundleGroup(ports, policy, g, now, clock, outcome, result.metrics, options);
    },
  );
  result.ok = result.targets.every((t) => t.status !== 'failed');
  // A failed group is not continued: it fails the Map child (after its retries).
  return { ...result, complete: complete || !result.ok };
}
