// Domain: how long each object kura writes into the vault is locked, by the
// class its key belongs to. Pure. Every write states this retention
// explicitly (ObjectLockMode + ObjectLockRetainUntilDate), in the policy's
// mode (COMPLIANCE by default: no one, root included, can shorten it), so an
// object's protection never rests on the bucket's default alone, and the
// lifecycle rules (lifecycle/) never remove a version before its lock ends
// (test/unit/vault-retention.test.ts holds the two against each other).
//
//   content objects         content/<name>/objects/             2 x (generations + 1) days, lengthened while referenced
//   content manifests       <manifests>content/<name>/generations/  generations + 1 days (as long as the generation)
//   content work            <manifests>content/<name>/work/     1 day (a run in progress: superseded by the index)
//   loose logs              logs/<class>/                       until bundled: min(retainDays, 31 x (keepMonths + 2))
//   log bundles, manifests  log-bundles/<class>/                the class's retention less the least age at bundling
//   reports                 <reports>, restores/, images/       vault.reportsRetainYears
//   first-point ledger      ledger/first-points/                the longest retention of the policy (>= 400 days)
//   exports                 exports/                            database.retainDays (the data they came from)
//   anything else                                               vault.objectLock.days (the bucket default)
//   seals                   seals/<key>/                        as <key> (written after it: its lock outlives the record's)
import type { Policy } from '../policy/schema.ts';
import { vaultLayout } from './content.ts';
import { contentLockDays, extendedLockDays, lockStrideDays } from './content-locks.ts';
import { FIRST_POINTS_PREFIX, firstPointRetentionDays } from './first-points.ts';
import { bundleExpirationDays, looseLogLockDays } from './lifecycle/logs.ts';
import { BUNDLE_ROOT, BUNDLE_WORK_ROOT, LOOSE_ROOT } from './logs/keys.ts';
import { sealedKeyOf } from './seals.ts';

export interface VaultRetention {
  /** The retention class, for reports and messages. */
  class: string;
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  days: number;
  why: string;
}

export interface RetentionPrefix extends Omit<VaultRetention, 'mode'> {
  prefix: string;
}

/** Days a year counts for report retention (leap years included). */
export const DAYS_PER_YEAR = 365.25;

/** Restore records, reports and exports (kept next to the evidence). */
export const RESTORES_ROOT = 'restores/';
export const EXPORTS_ROOT = 'exports/';
/** Image configuration records (config-record.ts: images/<instance>/<image>.json). */
export const IMAGE_RECORDS_ROOT = 'images/';

export function reportRetentionDays(policy: Policy): number {
  return Math.ceil(policy.vault.reportsRetainYears * DAYS_PER_YEAR);
}

/** Every retention class of the policy, by key prefix (a key takes its longest matching prefix). */
export function retentionPrefixes(policy: Policy): RetentionPrefix[] {
  const out: RetentionPrefix[] = [];
  for (const c of policy.content) {
    const days = contentLockDays(c.generations);
    out.push(
      {
        prefix: vaultLayout.objectsPrefix(c.name),
        class: `content ${c.name}`,
        days: extendedLockDays(c),
        why: `content ${c.name}: a version is referenced by the ${c.generations} daily generations kept (content[].generations), plus a day for a late run; locked that term plus a stride of ${lockStrideDays(c)} days (content[].lockStrideDays), and lengthened to as much from then whenever the newest generation still references it with less than a term left (content-locks.ts)`,
      },
      {
        prefix: vaultLayout.generationsPrefix(policy, c.name),
        class: `content ${c.name} manifests`,
        days,
        why: `content ${c.name}: a generation's manifests are kept as long as the generation they describe`,
      },
      {
        prefix: vaultLayout.workPrefix(policy, c.name),
        class: `content ${c.name} work`,
        days: 1,
        why: `content ${c.name}: checkpoints of a run in progress, superseded by the generation's index`,
      },
    );
  }
  const logs = policy.logs;
  if (logs)
    out.push({
      prefix: BUNDLE_WORK_ROOT,
      class: 'logs bundle work',
      days: 1,
      why: 'logs: the pending state of a bundle written across invocations, superseded at each save and removed once its manifest is written',
    });
  for (const [name, cls] of Object.entries(logs?.classes ?? {})) {
    if (!logs) break;
    out.push(
      {
        prefix: `${LOOSE_ROOT}${name}/`,
        class: `${name} logs (loose)`,
        days: looseLogLockDays(cls.retainDays, logs.keepMonths),
        why: `${name} logs: a loose file is locked until its month is bundled (logs.keepMonths ${logs.keepMonths} + 2 months, at most logs.classes.${name}.retainDays); the bundle then carries the class's retention`,
      },
      {
        prefix: `${BUNDLE_ROOT}${name}/`,
        class: `${name} logs (bundles)`,
        days: bundleExpirationDays(cls.retainDays, logs.keepMonths),
        why: `${name} logs: a bundle and its manifest are locked until every line in it is ${cls.retainDays} days old (logs.classes.${name}.retainDays)`,
      },
    );
  }
  const reportDays = reportRetentionDays(policy);
  const reportWhy = `reports are evidence for auditors: kept vault.reportsRetainYears (${policy.vault.reportsRetainYears}) years`;
  out.push(
    { prefix: policy.vault.reportsPrefix, class: 'reports', days: reportDays, why: reportWhy },
    { prefix: RESTORES_ROOT, class: 'restore records', days: reportDays, why: reportWhy },
    {
      prefix: IMAGE_RECORDS_ROOT,
      class: 'image records',
      days: reportDays,
      why: `image configuration records say what each image contains: ${reportWhy}`,
    },
    {
      prefix: FIRST_POINTS_PREFIX,
      class: 'first-point ledger',
      days: firstPointRetentionDays(policy),
      why: 'the first recovery point of each source: reports count expected points from it, as far back as the longest retention',
    },
    {
      prefix: EXPORTS_ROOT,
      class: 'exports',
      days: policy.database?.retainDays ?? policy.vault.objectLock.days,
      why: 'rows exported from a restore: kept as long as the database backups they came from (database.retainDays)',
    },
  );
  return out;
}

/** The retention a write of `key` into the vault states. */
export function vaultRetention(policy: Policy, key: string): VaultRetention {
  const sealed = sealedKeyOf(key);
  if (sealed !== undefined) {
    const r = vaultRetention(policy, sealed);
    return {
      ...r,
      class: `${r.class} seals`,
      why: `a seal is kept as long as the record it seals: ${r.why}`,
    };
  }
  let best: RetentionPrefix | undefined;
  for (const p of retentionPrefixes(policy)) {
    if (key.startsWith(p.prefix) && (!best || p.prefix.length > best.prefix.length)) best = p;
  }
  const mode = policy.vault.objectLock.mode;
  if (best) return { class: best.class, days: best.days, why: best.why, mode };
  return {
    class: 'other',
    mode,
    days: policy.vault.objectLock.days,
    why: "the vault's default retention (vault.objectLock.days)",
  };
}

/** The retain-until date of an object written at `writtenAt`. */
export function retainUntil(retention: { days: number }, writtenAt: Date): Date {
  return new Date(writtenAt.getTime() + retention.days * 86_400_000);
}
