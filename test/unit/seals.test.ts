// Unit: seal records (domain/seals.ts) and the lock lengthening rule of
// carried content versions (domain/content-locks.ts).
import { describe, expect, it } from 'vitest';
import { locksToExtend } from '../../shared/domain/content-locks.ts';
import type { ManifestEntry } from '../../shared/domain/content.ts';
import {
  checkSeal,
  encodeSeal,
  newSeal,
  parseSeal,
  sealedKeyOf,
  sealKey,
  sealKind,
  sha256Of,
} from '../../shared/domain/seals.ts';

const KEY = 'manifests/content/images/generations/2026-11-02.index.json';

describe('seals', () => {
  it('lives under seals/<key>/, one a record written once, a chain for records a re-run rewrites', () => {
    expect(sealKey(KEY, 1)).toBe(`seals/${KEY}/000001.json`);
    expect(sealedKeyOf(sealKey(KEY, 12))).toBe(KEY);
    expect(sealedKeyOf(KEY)).toBeUndefined();
    expect(sealKind(KEY)).toBe('once');
    expect(sealKind('log-bundles/access/web-1/2025-09/part-001.manifest.json')).toBe('once');
    expect(sealKind('restores/rq-1/approval.json')).toBe('chain');
    expect(sealKind('reports/validation/202611010900/report.json')).toBe('chain');
  });

  it('passes the sealed bytes and names the key and both hashes otherwise', () => {
    const seal = parseSeal(encodeSeal(newSeal(KEY, '{"a":1}', { versionId: 'v1', writtenAt: new Date(0) })), KEY, 'x');
    expect(checkSeal(KEY, seal, '{"a":1}')).toBe(seal);
    expect(() => checkSeal(KEY, seal, '{"a":2}', 'v2')).toThrow(
      expect.objectContaining({
        name: 'SealError',
        key: KEY,
        problem: 'mismatch',
        expected: sha256Of('{"a":1}'),
        found: sha256Of('{"a":2}'),
      }),
    );
    expect(() => checkSeal(KEY, undefined, '{"a":1}')).toThrow(expect.objectContaining({ problem: 'unsealed' }));
    expect(() => parseSeal(encodeSeal(seal), 'another/key.json', 'x')).toThrow(/seals .*index\.json, not another/);
    expect(() => parseSeal('{"format":"kura-seal/1"}', KEY, 'x')).toThrow(expect.objectContaining({ problem: 'malformed' }));
  });
});

describe('locks of carried content versions', () => {
  const entry = (key: string, lockedUntil?: string): ManifestEntry => ({
    key,
    size: 1,
    etag: '"e"',
    sha256: 's',
    versionId: 'v',
    mtime: '',
    ...(lockedUntil ? { lockedUntil } : {}),
  });
  it('lengthens only versions with less than a term (generations + 1 days) left, to two terms from now', () => {
    const now = new Date('2026-11-10T00:00:00Z');
    const r = locksToExtend(
      [
        entry('long', '2026-11-19T00:00:00Z'), // 9 days left: enough
        entry('edge', '2026-11-18T00:00:00Z'), // exactly a term
        entry('short', '2026-11-17T23:59:59Z'),
        entry('unknown'), // written before lockedUntil was recorded
      ],
      now,
      { generations: 7 },
    );
    expect(r.entries.map((e) => e.key)).toEqual(['short', 'unknown']);
    expect(r.until.toISOString()).toBe('2026-11-26T00:00:00.000Z');
  });
});
