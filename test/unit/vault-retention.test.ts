// Unit: the retention every vault write states, per class, and the proof that
// no lifecycle rule removes a version before its Object Lock ends. The days
// each prefix must be locked are written out here from the policy's own
// numbers (not taken from the lifecycle generator), then every rule is held
// against the retention the writers state for keys under its prefix.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configRecordKey } from '../../shared/domain/config-record.ts';
import { vaultLayout } from '../../shared/domain/content.ts';
import { firstPointKey } from '../../shared/domain/first-points.ts';
import { lifecycleRules } from '../../shared/domain/lifecycle/index.ts';
import { lifecycleHtml, lifecycleMarkdown, lifecycleReport } from '../../shared/domain/lifecycle/report.ts';
import { sealKey } from '../../shared/domain/seals.ts';
import { retentionPrefixes, vaultRetention } from '../../shared/domain/vault-retention.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { parsePolicy } from '../../shared/policy/parse.ts';
import type { Policy } from '../../shared/policy/schema.ts';

const POLICY_FILE = new URL('../../backup-policy.yml', import.meta.url);
const reference = loadPolicy();

/** Keys kura writes, one of each kind, under the policy's layout. */
function recordKeys(policy: Policy): string[] {
  return [
    ...policy.content.flatMap(({ name: c }) => [
      vaultLayout.objectKey(c, 'u1/photo.png'),
      vaultLayout.indexKey(policy, c, '2026-11-01'),
      vaultLayout.shardKey(policy, c, '2026-11-01', 0),
      vaultLayout.summaryKey(policy, c, '2026-11-01'),
      vaultLayout.planKey(policy, c, '2026-11-01'),
      vaultLayout.partKey(policy, c, '2026-11-01', 0, 1),
    ]),
    ...Object.keys(policy.logs?.classes ?? {}).flatMap((cls) => [
      `logs/${cls}/web-1/2026-11-01/access.log.gz`,
      `log-bundles/${cls}/web-1/2026-08/part-001.tar.gz`,
      `log-bundles/${cls}/web-1/2026-08/part-001.manifest.json`,
      `log-bundles-work/${cls}/web-1/2026-08/part-001/state.json`,
    ]),
    `${policy.vault.reportsPrefix}validation/2026-11-01T0000/report.json`,
    'restores/req-1/report.json',
    configRecordKey('i-0123', 'kura-web-202611010400'),
    firstPointKey('database', 'db-1'),
  ];
}

/** Keys kura writes, each sealed record's seals among them (seals.ts). */
function sampleKeys(policy: Policy): string[] {
  const keys = recordKeys(policy);
  const sealed = [
    ...policy.content.flatMap(({ name: c }) => [vaultLayout.indexKey(policy, c, '2026-11-01')]),
    ...Object.keys(policy.logs?.classes ?? {}).map((cls) => `log-bundles/${cls}/web-1/2026-08/part-001.manifest.json`),
    `${policy.vault.reportsPrefix}validation/2026-11-01T0000/report.json`,
    `${policy.vault.reportsPrefix}validation/2026-11-01T0000/plan.json`,
    'restores/req-1/plan.json',
    'restores/req-1/report.json',
  ];
  return [...keys, ...sealed.map((k) => sealKey(k, 1)), ...sealed.map((k) => sealKey(k, 2))];
}

/** Whether a rule's prefix holds the key (S3 prefix filter). */
const under = (prefix: string | undefined, key: string) => key.startsWith(prefix ?? '');

describe('the retention vault writes state', () => {
  it('locks each class of the reference policy as long as the policy keeps it, in COMPLIANCE mode', () => {
    const days = (key: string) => vaultRetention(reference, key).days;
    const year7 = Math.ceil(7 * 365.25);
    // content: 7 daily generations, plus a day for a late run; objects two such terms (lengthened while referenced)
    expect(days('content/app1-images/objects/u1/a.png')).toBe(16);
    expect(days('manifests/content/app1-images/generations/2026-11-01.index.json')).toBe(8);
    expect(days('manifests/content/app1-images/generations/2026-11-01/shard-00000.jsonl.gz')).toBe(8);
    expect(days('manifests/content/app1-images/work/2026-11-01/plan.json')).toBe(1);
    // logs: loose files until bundled (keepMonths 2 + a missed month, 31 days each);
    // bundles until every line is its class's age: retention - (2 x 28 + 1) days
    expect(days('logs/access/web-1/2026-11-01/a.log')).toBe(124);
    expect(days('log-bundles/access/web-1/2026-08/part-001.tar.gz')).toBe(2557 - 57);
    expect(days('log-bundles/access/web-1/2026-08/part-001.manifest.json')).toBe(2557 - 57);
    expect(days('logs/system/web-1/2026-11-01/messages')).toBe(124);
    expect(days('log-bundles/application/web-1/2026-08/part-001.tar.gz')).toBe(365 - 57);
    // reports: vault.reportsRetainYears (7)
    expect(days('reports/validation/2026-11-01T0000/report.json')).toBe(year7);
    expect(days('restores/req-1/report.json')).toBe(year7);
    expect(days('images/i-1/kura-web-1.json')).toBe(year7);
    expect(days('ledger/first-points/database/db-1.json')).toBe(2557);
    expect(days('something/else.json')).toBe(reference.vault.objectLock.days);
    for (const key of sampleKeys(reference)) expect(vaultRetention(reference, key).mode).toBe('COMPLIANCE');
  });

  it('locks a seal at least as long as the record it seals (written later, the same days)', () => {
    const days = (key: string) => vaultRetention(reference, key).days;
    for (const record of recordKeys(reference)) {
      for (const seq of [1, 2]) {
        const seal = sealKey(record, seq);
        expect(days(seal), seal).toBe(days(record));
        expect(vaultRetention(reference, seal).class, seal).toBe(`${vaultRetention(reference, record).class} seals`);
      }
    }
    expect(days(sealKey('log-bundles/access/web-1/2026-08/part-001.manifest.json', 1))).toBe(2557 - 57);
  });

  it('gives every key kura writes a class of its own, not the bucket default', () => {
    for (const key of sampleKeys(reference))
      expect(vaultRetention(reference, key).class, key).not.toBe('other');
  });
});

describe('no lifecycle rule removes a version before its lock ends', () => {
  const variants: [string, Policy][] = [
    ['the reference policy', reference],
    [
      'short retention, few generations, one loose month',
      (() => {
        const p = structuredClone(reference);
        for (const c of p.content) c.generations = 2;
        if (p.logs) {
          p.logs.keepMonths = 1;
          for (const c of Object.values(p.logs.classes)) c.retainDays = 40;
          p.logs.transitions = {
            ...p.logs.transitions,
            infrequentAccessDays: 30,
            glacierDays: 60,
            deepArchiveDays: 90,
          };
        }
        p.vault.reportsRetainYears = 1;
        return p;
      })(),
    ],
    [
      'long retention, many generations',
      (() => {
        const p = structuredClone(reference);
        for (const c of p.content) c.generations = 30;
        if (p.logs) {
          p.logs.keepMonths = 6;
          for (const c of Object.values(p.logs.classes)) c.retainDays = 3653;
        }
        return p;
      })(),
    ],
  ];

  it.each(variants)('in %s', (_name, policy) => {
    const rules = lifecycleRules(policy);
    let compared = 0;
    for (const rule of rules) {
      for (const key of sampleKeys(policy).filter((k) => under(rule.Prefix, k))) {
        const lock = vaultRetention(policy, key).days;
        // A version can become noncurrent the moment it is written (a newer write or a
        // delete marker), so NoncurrentDays alone must outlast the lock.
        if (rule.NoncurrentVersionExpiration) {
          expect(
            rule.NoncurrentVersionExpiration.NoncurrentDays,
            `${rule.Id} on ${key}`,
          ).toBeGreaterThanOrEqual(lock);
          compared++;
        }
        // Expiration puts a delete marker on the current version: never while it is locked.
        if (rule.ExpirationInDays !== undefined) {
          expect(rule.ExpirationInDays, `${rule.Id} on ${key}`).toBeGreaterThanOrEqual(lock);
          compared++;
        }
      }
    }
    // Every removing rule met at least one key it governs.
    const removing = rules.filter((r) => r.NoncurrentVersionExpiration || r.ExpirationInDays !== undefined);
    for (const r of removing)
      expect(
        sampleKeys(policy).some((k) => under(r.Prefix, k)),
        r.Id,
      ).toBe(true);
    expect(compared).toBeGreaterThanOrEqual(removing.length);
  });

  it('lists each retention prefix once', () => {
    const prefixes = retentionPrefixes(reference).map((p) => p.prefix);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });
});

describe('single-account mode', () => {
  it('is flagged plainly by the lifecycle report, first, in every format', () => {
    const rep = lifecycleReport(reference, new Date('2026-11-01T00:00:00Z'), undefined);
    expect(rep.exposure).toEqual([
      'vault in the production account: not protected against a compromised production account',
    ]);
    expect(lifecycleMarkdown(rep)).toContain(
      '**Exposure: vault in the production account: not protected against a compromised production account.**',
    );
    expect(lifecycleHtml(rep)).toContain('not protected against a compromised production account');
  });

  it('is not flagged once the policy lists source accounts (kura pulls from them into the backup account)', () => {
    const raw = parse(readFileSync(POLICY_FILE, 'utf8')) as Record<string, any>;
    raw.sources = [
      { accountId: '333333333333', roleArn: 'arn:aws:iam::333333333333:role/kura-source', externalId: 'x-1' },
    ];
    const rep = lifecycleReport(parsePolicy(raw, 'test.yml'), new Date('2026-11-01T00:00:00Z'), undefined);
    expect(rep.exposure).toEqual([]);
  });
});
