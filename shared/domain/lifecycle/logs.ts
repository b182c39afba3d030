// Domain (logs): the vault lifecycle rules of the log classes, from the
// policy's logs section. Pure. Per class:
//   - loose files (logs/<class>/): expire at the class's retention, a safety
//     net: normally they are bundled after keepMonths and removed. Not
//     transitioned: they live two to three months and are read once more to
//     be bundled, so a colder class would cost a transition, a retrieval fee
//     and its minimum storage duration for no saving.
//   - bundles (log-bundles/<class>/): move to colder classes on the policy's
//     days, but only objects tagged kura:object=bundle (never their manifests:
//     a restore reads a manifest first, and one in DEEP_ARCHIVE would take 12
//     hours to read) and larger than logs.transitions.minObjectSizeBytes
//     (small objects cost more to transition and to keep cold than they save:
//     see docs/logs.md); bundles and manifests expire at the retention minus the age a log has at
//     the latest when its bundle is made, so every line is kept at least the
//     retention (lifecycle counts from the bundle's creation).
//   - removed versions (the originals a bundle replaced, overwritten attempts)
//     go once their Object Lock has surely ended: as many days after removal
//     as the prefix's retention (vault-retention.ts), so no rule ever tries
//     to remove a locked version.
import type { LogsPolicy, Policy } from '../../policy/schema.ts';
import { PolicyError } from '../../runtime/errors.ts';
import { BUNDLE_ROOT, BUNDLE_WORK_ROOT, LOOSE_ROOT } from '../logs/keys.ts';
import { minimumAgeAtBundling } from '../logs/months.ts';
import { TAG } from '../tags.ts';
import type { LifecycleRule } from './index.ts';

/** The tag that lets a bundle, and never its manifest, move to colder storage classes. */
export const BUNDLE_TAG = { Key: TAG.object, Value: 'bundle' } as const;

/** How long a restore waits for objects in each storage class (for docs and the lifecycle report). */
export const RETRIEVAL: Record<string, string> = {
  STANDARD: 'immediate',
  STANDARD_IA: 'immediate',
  GLACIER_IR: 'immediate (milliseconds)',
  GLACIER: '3-5 hours (standard retrieval), after a restore request',
  DEEP_ARCHIVE: 'up to 12 hours (standard retrieval), after a restore request',
};

export function bundleExpirationDays(retainDays: number, keepMonths: number): number {
  return Math.max(1, retainDays - minimumAgeAtBundling(keepMonths));
}

/**
 * The longest a loose log file waits for its bundle: a month is bundled on the
 * first run after keepMonths full months, so its first day is at most
 * 31 x (keepMonths + 1) days old then; one more month covers a missed run.
 * The bundle carries the class's retention from then on.
 */
export function looseLogLockDays(retainDays: number, keepMonths: number): number {
  return Math.min(retainDays, 31 * (keepMonths + 2));
}

/** The colder classes a bundle moves through, in order, before it expires. */
export function bundleTransitions(
  logs: LogsPolicy,
  expireDays: number,
): { StorageClass: string; TransitionInDays: number }[] {
  const t = logs.transitions;
  if (t.glacierDays < t.infrequentAccessDays + 30) {
    throw new PolicyError([
      `logs.transitions.glacierDays: found ${t.glacierDays}; expected at least infrequentAccessDays + 30 (${t.infrequentAccessDays + 30}): S3 keeps objects 30 days in STANDARD_IA before a colder class`,
    ]);
  }
  if (t.deepArchiveDays <= t.glacierDays) {
    throw new PolicyError([
      `logs.transitions.deepArchiveDays: found ${t.deepArchiveDays}; expected more than glacierDays (${t.glacierDays})`,
    ]);
  }
  return [
    { StorageClass: 'STANDARD_IA', TransitionInDays: t.infrequentAccessDays },
    // Instant Retrieval, not Flexible Retrieval: a restore still meets the logs RTO.
    { StorageClass: 'GLACIER_IR', TransitionInDays: t.glacierDays },
    { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: t.deepArchiveDays },
  ].filter((x) => x.TransitionInDays < expireDays);
}

export function logLifecycleRules(policy: Policy): LifecycleRule[] {
  const logs = policy.logs;
  if (!logs) return [];
  const rules: LifecycleRule[] = [];
  for (const [name, cls] of Object.entries(logs.classes).sort(([a], [b]) => a.localeCompare(b))) {
    const expire = bundleExpirationDays(cls.retainDays, logs.keepMonths);
    const looseLock = looseLogLockDays(cls.retainDays, logs.keepMonths);
    rules.push({
      Id: `logs-${name}-loose`,
      Status: 'Enabled',
      Prefix: `${LOOSE_ROOT}${name}/`,
      ExpirationInDays: cls.retainDays,
      NoncurrentVersionExpiration: { NoncurrentDays: looseLock },
      Why: `${name} logs: loose files are kept ${cls.retainDays} days at most (logs.classes.${name}.retainDays); normally bundled after ${logs.keepMonths} months, and removed originals go ${looseLock} days later, when their Object Lock (${looseLock} days from the write) has ended`,
    });
    rules.push({
      Id: `logs-${name}-bundles-expire`,
      Status: 'Enabled',
      Prefix: `${BUNDLE_ROOT}${name}/`,
      ExpirationInDays: expire,
      // A bundle is written once; a version replaced by a retry stays as long as its lock.
      NoncurrentVersionExpiration: { NoncurrentDays: expire },
      Why: `${name} logs: bundles expire ${expire} days after they are made = ${cls.retainDays} days retention - ${minimumAgeAtBundling(logs.keepMonths)} days, the least age a log has when its month is bundled; every line is kept at least ${cls.retainDays} days`,
    });
    const transitions = bundleTransitions(logs, expire);
    if (transitions.length > 0) {
      rules.push({
        Id: `logs-${name}-bundles-transition`,
        Status: 'Enabled',
        Prefix: `${BUNDLE_ROOT}${name}/`,
        ObjectSizeGreaterThan: logs.transitions.minObjectSizeBytes,
        TagFilters: [BUNDLE_TAG],
        Transitions: transitions,
        Why: `${name} logs: bundles (tagged ${BUNDLE_TAG.Key}=${BUNDLE_TAG.Value}) larger than ${logs.transitions.minObjectSizeBytes} bytes move to ${transitions.map((t) => `${t.StorageClass} at ${t.TransitionInDays} days`).join(', ')}; manifests never do (a restore reads them first, and they must stay readable as long as their bundles); small bundles stay in STANDARD because per-object transition and metadata charges exceed the saving`,
      });
    }
  }
  rules.push({
    Id: 'logs-bundle-work',
    Status: 'Enabled',
    Prefix: BUNDLE_WORK_ROOT,
    ExpirationInDays: 14,
    NoncurrentVersionExpiration: { NoncurrentDays: 1 },
    Why: 'logs: the pending state of a bundle written across invocations is needed only until its manifest is written (kura removes it then; this catches a group abandoned halfway)',
  });
  return rules;
}
