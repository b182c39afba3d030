// Unit (logs domain): key layouts, which months a run bundles, manifests,
// lifecycle rule arithmetic, and the tar.gz codec's round trip.
import { describe, expect, it } from 'vitest';
import {
  bundleExpirationDays,
  bundleTransitions,
  logLifecycleRules,
} from '../../shared/domain/lifecycle/logs.ts';
import { appliesTo, type FilteredObject, lifecycleRules } from '../../shared/domain/lifecycle/index.ts';
import { differences, fromApiRule, fromPolicyRule } from '../../shared/domain/lifecycle/report.ts';
import { packBundle, readBundle } from '../../shared/domain/logs/bundle-codec.ts';
import {
  bundleKey,
  dayOfFile,
  parseBundleKey,
  parseLandingKey,
  parseLooseKey,
} from '../../shared/domain/logs/keys.ts';
import { compareWithManifest } from '../../shared/domain/logs/manifest.ts';
import {
  addMonths,
  bundleCutoff,
  daysBetween,
  lastDayOfMonth,
  minimumAgeAtBundling,
  monthsBetween,
} from '../../shared/domain/logs/months.ts';
import { loadPolicy } from '../../shared/policy/load.ts';

const CLASSES = ['access', 'application', 'system'];

describe('landing keys', () => {
  it('reads <prefix><host>/<class>/<file> when the key has that form', () => {
    expect(parseLandingKey('incoming/web-1/access/access.log-20251120.gz', 'incoming/', CLASSES)).toEqual({
      ok: true,
      file: {
        key: 'incoming/web-1/access/access.log-20251120.gz',
        host: 'web-1',
        logClass: 'access',
        file: 'access.log-20251120.gz',
      },
    });
  });

  it.each([
    ['incoming/web-1/access.log', 'malformed', /2 path segment/],
    ['incoming/web-1/access/a/b.log', 'malformed', /4 path segment/],
    ['incoming/web-1/access/', 'folder-marker', /folder marker/],
    ['other/web-1/access/a.log', 'malformed', /outside the landing prefix/],
    ['incoming/web 1/access/a.log', 'malformed', /host "web 1"/],
    ['incoming/web-1/audit/a.log', 'unknown-class', /class "audit" is not in the policy/],
    ['incoming/web-1/Access/a.log', 'unknown-class', /class "Access"/],
    ['incoming/web-1/access/..', 'malformed', /dot name/],
  ])('reports %s as %s', (key, kind, problem) => {
    const r = parseLandingKey(key, 'incoming/', CLASSES);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe(kind);
      expect(r.problem).toMatch(problem);
    }
  });

  it.each([
    ['access.log-20251120', '2025-11-20'],
    ['access.log-20251120.gz', '2025-11-20'],
    ['app-2025-11-20.log', '2025-11-20'],
    ['access.log-2025112013', '2025-11-20'],
    ['access.log.1', '2000-01-01'],
    ['access.log-20251341', '2000-01-01'],
    ['build-12345678-20251120.log', '2025-11-20'],
  ])('files %s under %s', (file, day) => {
    expect(dayOfFile(file, '2000-01-01')).toBe(day);
  });

  it('round-trips loose and bundle keys', () => {
    expect(parseLooseKey('logs/access/web-1/2025-09-01/access.log-20250901')).toMatchObject({
      host: 'web-1',
      day: '2025-09-01',
      member: '2025-09-01/access.log-20250901',
    });
    expect(parseLooseKey('logs/access/web-1/2025-02-30/x')).toBeUndefined();
    expect(parseBundleKey(bundleKey('access', 'web-1', '2025-09', 2))).toMatchObject({
      month: '2025-09',
      part: 2,
      kind: 'bundle',
    });
  });
});

describe('months', () => {
  it('bundles everything before October 1st on December 1st (Tokyo) with two months kept', () => {
    expect(bundleCutoff(new Date('2025-12-01T03:00:00+09:00'), 'Asia/Tokyo', 2)).toBe('2025-10');
    // 2025-11-30T18:00Z is already December 1st in Tokyo.
    expect(bundleCutoff(new Date('2025-11-30T18:00:00Z'), 'Asia/Tokyo', 2)).toBe('2025-10');
    expect(bundleCutoff(new Date('2026-01-01T03:00:00+09:00'), 'Asia/Tokyo', 2)).toBe('2025-11');
  });

  it('walks months and days across year ends', () => {
    expect(addMonths('2025-11', 3)).toBe('2026-02');
    expect(addMonths('2025-01', -1)).toBe('2024-12');
    expect(monthsBetween('2025-12-30', '2026-02-01')).toEqual(['2025-12', '2026-01', '2026-02']);
    expect(daysBetween('2024-02-28', '2024-03-01')).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
    expect(lastDayOfMonth('2024-02')).toBe('2024-02-29');
  });

  it('never overstates how old a log is when its month is bundled', () => {
    // The real least age over every month: last day of M to the 1st of M + keepMonths + 1.
    for (const keep of [1, 2, 3]) {
      let least = Number.POSITIVE_INFINITY;
      for (let m = '2020-01'; m < '2030-01'; m = addMonths(m, 1)) {
        const age = (Date.parse(`${addMonths(m, keep + 1)}-01`) - Date.parse(lastDayOfMonth(m))) / 86_400_000;
        least = Math.min(least, age);
      }
      expect(minimumAgeAtBundling(keep)).toBeLessThanOrEqual(least);
    }
  });
});

describe('manifests', () => {
  const m = { name: '2025-09-01/a.log', size: 3, sha256: 'a'.repeat(64) };
  it('finds every difference between a bundle and its manifest', () => {
    expect(compareWithManifest([m], [m])).toEqual([]);
    expect(compareWithManifest([m], [])).toEqual(['member 2025-09-01/a.log is missing']);
    expect(compareWithManifest([m], [{ ...m, sha256: 'b'.repeat(64) }])[0]).toMatch(
      /SHA-256 b+, manifest says a+/,
    );
    expect(compareWithManifest([], [m])).toEqual(['member 2025-09-01/a.log is not in the manifest']);
    expect(
      compareWithManifest([m], [m], { expected: { size: 1, sha256: 'x' }, read: { size: 2, sha256: 'x' } }),
    ).toEqual(['bundle size 2, manifest says 1']);
  });
});

describe('log lifecycle rules', () => {
  const policy = loadPolicy();

  it('keeps every line at least its retention and transitions only big objects', () => {
    const rules = logLifecycleRules(policy);
    expect(rules.map((r) => r.Id)).toContain('logs-access-bundles-transition');
    expect(bundleExpirationDays(2557, 2)).toBe(2500);
    const transition = rules.find((r) => r.Id === 'logs-application-bundles-transition');
    expect(transition?.ObjectSizeGreaterThan).toBe(131_072);
    expect(transition?.ExpirationInDays).toBeUndefined();
    expect(transition?.Transitions?.map((t) => t.TransitionInDays)).toEqual([30, 90, 180]);
  });

  it('refuses transition days S3 would reject, naming the key', () => {
    const logs = structuredClone(policy.logs);
    if (!logs) throw new Error('no logs');
    logs.transitions.glacierDays = 45;
    expect(() => bundleTransitions(logs, 1000)).toThrow(
      /logs.transitions.glacierDays: found 45; expected at least infrequentAccessDays \+ 30 \(60\)/,
    );
  });

  it('sees a rule on the bucket with another size filter or transition as different', () => {
    const [rule] = logLifecycleRules(policy).filter((r) => r.Id === 'logs-access-bundles-transition');
    if (!rule) throw new Error('no rule');
    const api = {
      ID: rule.Id,
      Status: 'Enabled',
      Filter: {
        And: {
          Prefix: 'log-bundles/access/',
          ObjectSizeGreaterThan: 1024,
          Tags: [{ Key: 'kura:object', Value: 'bundle' }],
        },
      },
      Transitions: [
        { Days: 30, StorageClass: 'STANDARD_IA' },
        { Days: 90, StorageClass: 'GLACIER' },
        { Days: 180, StorageClass: 'DEEP_ARCHIVE' },
      ],
    };
    expect(differences(fromPolicyRule(rule), fromApiRule(api))).toEqual([
      'size filter (bytes): bucket 1024, policy 131072',
      'transitions: bucket ["STANDARD_IA@30d","GLACIER@90d","DEEP_ARCHIVE@180d"], policy ["STANDARD_IA@30d","GLACIER_IR@90d","DEEP_ARCHIVE@180d"]',
    ]);
  });
});

describe('log manifests under the lifecycle rules', () => {
  const policy = loadPolicy();
  const rules = lifecycleRules(policy);
  const cold = rules.filter((r) => r.Transitions?.length);
  const managed = { 'kura:managed': 'true', 'kura:class': 'logs' };

  it('never moves a manifest to a colder class, however large: a restore reads it first', () => {
    for (const cls of Object.keys(policy.logs?.classes ?? {})) {
      for (const size of [1, 131_073, 50 * 1024 * 1024]) {
        const manifest = {
          key: `log-bundles/${cls}/web-1/2026-08/web-1-${cls}-2026-08.part1.manifest.json`,
          size,
          tags: managed,
        };
        expect(
          cold.filter((r) => appliesTo(r, manifest)).map((r) => r.Id),
          `${cls} ${size}`,
        ).toEqual([]);
      }
    }
  });

  it('moves a large bundle to colder classes, and expires bundle and manifest on the same day', () => {
    const key = 'log-bundles/access/web-1/2026-08/web-1-access-2026-08.part1';
    const bundle = { key: `${key}.tar.gz`, size: 200_000, tags: { ...managed, 'kura:object': 'bundle' } };
    const manifest = { key: `${key}.manifest.json`, size: 200_000, tags: managed };
    expect(cold.filter((r) => appliesTo(r, bundle)).map((r) => r.Id)).toEqual([
      'logs-access-bundles-transition',
    ]);
    const expiry = (o: FilteredObject) =>
      rules.filter((r) => r.ExpirationInDays !== undefined && appliesTo(r, o)).map((r) => r.ExpirationInDays);
    expect(expiry(manifest)).toEqual(expiry(bundle));
    expect(expiry(bundle)).toEqual([2500]);
  });
});

describe('bundle codec', () => {
  const member = (name: string, text: string) => ({
    name,
    size: Buffer.byteLength(text),
    mtime: new Date('2025-09-01T00:00:00Z'),
    open: async () =>
      (async function* () {
        yield Buffer.from(text);
      })(),
  });

  it('gives the same bytes for the same members and reads back what it packed', async () => {
    const pack = async () => {
      const p = packBundle([member('2025-09-01/a.log', 'a\n'.repeat(5000)), member('2025-09-02/b.log', '')]);
      const chunks: Buffer[] = [];
      for await (const c of p.stream) chunks.push(c as Buffer);
      return { bytes: Buffer.concat(chunks), done: await p.done };
    };
    const one = await pack();
    const two = await pack();
    expect(one.bytes.equals(two.bytes)).toBe(true);
    const back = await readBundle([one.bytes]);
    expect(back.members).toEqual(one.done.members);
    expect(back.bundle).toEqual(one.done.bundle);
  });

  it('rejects a truncated bundle rather than return part of it', async () => {
    const p = packBundle([member('2025-09-01/a.log', 'x'.repeat(100_000))]);
    const chunks: Buffer[] = [];
    for await (const c of p.stream) chunks.push(c as Buffer);
    const whole = Buffer.concat(chunks);
    await expect(readBundle([whole.subarray(0, whole.length - 20)])).rejects.toThrow();
    await expect(readBundle([Buffer.from('not a gzip stream')])).rejects.toThrow();
  });

  it('fails the bundle when a member is shorter than listed', async () => {
    const p = packBundle([{ ...member('2025-09-01/a.log', 'abc'), size: 10 }]);
    p.stream.resume();
    await expect(p.done).rejects.toThrow(/read 3 bytes, listed 10/);
  });
});
