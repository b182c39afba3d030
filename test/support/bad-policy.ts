// Test support: fast-check arbitraries that break the reference policy in one
// or more ways. Each mutation knows the key path a person must be shown and
// the words that say what was expected, so a property can check the message.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { DEFAULT_POLICY_PATH, readPolicyDocument } from '../../shared/policy/load.ts';

export type Doc = Record<string, unknown>;
type Path = (string | number)[];

export interface Mutation {
  kind: string;
  path: Path;
  /** The value written at `path`; `undefined` with kind "delete-required" deletes the key. */
  value?: unknown;
  /** For unknown keys: the key added under `path`. */
  key?: string;
  /** What the message must say about this mutation (besides the key path). */
  says: RegExp;
}

export function referenceDoc(): Doc {
  return structuredClone(readPolicyDocument(DEFAULT_POLICY_PATH)) as Doc;
}

/** "a.b.0.c", the form the error messages use; "(top level)" for the root. */
export function dotted(path: Path): string {
  return path.length ? path.map(String).join('.') : '(top level)';
}

function parentOf(doc: Doc, path: Path): Record<string | number, unknown> | undefined {
  let cur: unknown = doc;
  for (const k of path.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>) : undefined;
}

function valueAt(doc: Doc, path: Path): unknown {
  let cur: unknown = doc;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

const overlaps = (a: Path, b: Path) => {
  const n = Math.min(a.length, b.length);
  return a.slice(0, n).every((k, i) => String(k) === String(b[i]));
};

/**
 * Applies the mutations in order to a copy of the reference; one whose path
 * overlaps an earlier one (same key, parent or child) is dropped so that each
 * applied mutation still stands in the result. Returns the applied ones.
 */
export function applyMutations(mutations: Mutation[]): { doc: Doc; applied: Mutation[] } {
  const doc = referenceDoc();
  const applied: Mutation[] = [];
  for (const m of mutations) {
    const target = m.key === undefined ? m.path : [...m.path, m.key];
    if (applied.some((a) => overlaps(a.key === undefined ? a.path : [...a.path, a.key], target))) continue;
    if (m.key !== undefined) {
      const obj = m.path.length ? valueAt(doc, m.path) : doc;
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) continue;
      // defineProperty: "__proto__" as a key must become an own key, as YAML makes it.
      Object.defineProperty(obj, m.key, {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      const parent = parentOf(doc, m.path);
      const last = m.path.at(-1);
      if (!parent || last === undefined) continue;
      if (m.kind === 'delete-required') delete parent[last];
      else parent[last] = m.value;
    }
    applied.push(m);
  }
  return { doc, applied };
}

// ---- where the reference policy has what ---------------------------------

const NUMBER_LEAVES: Path[] = [
  ['version'],
  ['vault', 'objectLock', 'days'],
  ['database', 'retainDays'],
  ['database', 'minGenerations'],
  ['database', 'rpoMinutes'],
  ['database', 'snapshotQuota'],
  ['content', 0, 'generations'],
  ['content', 1, 'generations'],
  ['logs', 'keepMonths'],
  ['logs', 'classes', 'access', 'retainDays'],
  ['logs', 'classes', 'system', 'retainDays'],
  ['images', 'generations'],
  ['images', 'waitSeconds'],
  ['validation', 'rto', 'dataMinutes'],
  ['validation', 'contentSample'],
];
const STRING_LEAVES: Path[] = [
  ['timezone'],
  ['region'],
  ['selector', 'tagKey'],
  ['schedules', 'rds-snapshot'],
  ['schedules', 'validation'],
  ['vault', 'bucket'],
  ['vault', 'kmsKeyAlias'],
  ['vault', 'reportsPrefix'],
  ['vault', 'manifestsPrefix'],
  ['vault', 'objectLock', 'mode'],
  ['database', 'copy', 'region'],
  ['database', 'copy', 'kmsKeyId'],
  ['content', 0, 'name'],
  ['content', 1, 'source'],
  ['logs', 'landing'],
  ['isolatedAccount', 'accountId'],
  ['isolatedAccount', 'roleArn'],
  ['isolatedAccount', 'externalId'],
  ['isolatedAccount', 'region'],
  ['notifications', 'topicName'],
];
const BOOLEAN_LEAVES: Path[] = [
  ['database', 'enforceBackupRetention'],
  ['database', 'shareWithIsolatedAccount'],
  ['images', 'reboot'],
  ['images', 'copyToDrRegion'],
];
const MAPPINGS: Path[] = [
  [],
  ['selector'],
  ['schedules'],
  ['vault'],
  ['vault', 'objectLock'],
  ['database'],
  ['database', 'copy'],
  ['content', 0],
  ['logs'],
  ['logs', 'classes', 'application'],
  ['images'],
  ['isolatedAccount'],
  ['validation'],
  ['validation', 'rto'],
  ['notifications'],
];
const LISTS: Path[] = [['content'], ['database', 'copyTags'], ['validation', 'sqlProbes']];
const REQUIRED: Path[] = [
  ['version'],
  ['timezone'],
  ['region'],
  ['schedules'],
  ['vault'],
  ['vault', 'bucket'],
  ['vault', 'objectLock', 'mode'],
  ['vault', 'objectLock', 'days'],
  ['selector', 'tagKey'],
  ['database', 'retainDays'],
  ['database', 'copy', 'region'],
  ['content', 0, 'name'],
  ['content', 1, 'source'],
  ['content', 0, 'generations'],
  ['logs', 'landing'],
  ['logs', 'classes'],
  ['logs', 'classes', 'access', 'retainDays'],
  ['images', 'generations'],
  ['isolatedAccount', 'accountId'],
  ['isolatedAccount', 'roleArn'],
  ['validation', 'rto', 'dataMinutes'],
  ['notifications', 'topicName'],
];

const EXPECTED = /expected/;
const m = (kind: string, path: Path, value: unknown, says: RegExp = EXPECTED): Mutation => ({
  kind,
  path,
  value,
  says,
});

// ---- the mutation kinds --------------------------------------------------

const deleteRequired = fc
  .constantFrom(...REQUIRED)
  .map((path): Mutation => ({ kind: 'delete-required', path, says: /missing; expected/ }));

const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}));
const notANumber = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant({}),
);
const wrongType = fc.oneof(
  fc.tuple(fc.constantFrom(...NUMBER_LEAVES), notANumber).map(([p, v]) => m('wrong-type', p, v)),
  fc.tuple(fc.constantFrom(...STRING_LEAVES), notAString).map(([p, v]) => m('wrong-type', p, v)),
  fc
    .tuple(fc.constantFrom(...BOOLEAN_LEAVES), fc.oneof(fc.constantFrom('yes', 'true', 'no'), fc.integer()))
    .map(([p, v]) => m('wrong-type', p, v, /expected boolean/)),
  fc
    .tuple(
      fc.constantFrom(...MAPPINGS.filter((p) => p.length > 0)),
      fc.oneof(fc.array(fc.integer(), { maxLength: 3 }), fc.string(), fc.integer(), fc.constant(null)),
    )
    .map(([p, v]) => m('wrong-type', p, v, /expected object/)),
  fc
    .tuple(fc.constantFrom(...LISTS), fc.oneof(fc.string(), fc.integer(), fc.constant({}), fc.constant(null)))
    .map(([p, v]) => m('wrong-type', p, v, /expected array/)),
);

const nonPositive = fc.integer({ min: -1_000_000, max: 0 });
const outOfRange = fc.oneof(
  nonPositive.map((v) => m('out-of-range', ['database', 'retainDays'], v)),
  nonPositive.map((v) => m('out-of-range', ['database', 'minGenerations'], v)),
  nonPositive.map((v) => m('out-of-range', ['database', 'rpoMinutes'], v)),
  nonPositive.map((v) => m('out-of-range', ['database', 'snapshotQuota'], v)),
  nonPositive.map((v) => m('out-of-range', ['vault', 'objectLock', 'days'], v)),
  nonPositive.map((v) => m('out-of-range', ['logs', 'keepMonths'], v)),
  nonPositive.map((v) => m('out-of-range', ['validation', 'contentSample'], v)),
  fc.integer({ min: -5, max: 1 }).map((v) => m('out-of-range', ['content', 0, 'generations'], v)),
  fc.integer({ min: -5, max: 1 }).map((v) => m('out-of-range', ['images', 'generations'], v)),
  fc.integer({ min: 841, max: 1_000_000 }).map((v) => m('out-of-range', ['images', 'waitSeconds'], v)),
  fc.integer({ min: -1_000, max: -1 }).map((v) => m('out-of-range', ['images', 'waitSeconds'], v)),
  fc
    .double({ min: 0.01, max: 1000, noNaN: true, noInteger: true })
    .map((v) => m('out-of-range', ['database', 'retainDays'], v, /expected int/)),
  fc
    .constantFrom(Number.MAX_SAFE_INTEGER + 1, 1e300)
    .map((v) => m('out-of-range', ['images', 'generations'], v, /expected at most/)),
  // Retention that contradicts another key: below the minimum generations,
  // shorter than the months logs stay loose.
  fc
    .integer({ min: 1, max: 2 })
    .map((v) => m('retention-below-floor', ['database', 'retainDays'], v, /below the minimum generations/)),
  fc
    .integer({ min: 1, max: 61 })
    .map((v) =>
      m('retention-below-floor', ['logs', 'classes', 'application', 'retainDays'], v, /expected at least 62/),
    ),
);

const scheduleTarget = fc.constantFrom(
  'rds-snapshot',
  'content-backup',
  'log-archive',
  'log-bundle',
  'ami-backup',
  'validation',
);
const badExpression = fc.oneof(
  fc.integer({ min: 24, max: 99 }).map((h) => `cron(0 ${h} * * ? *)`),
  fc.integer({ min: 60, max: 999 }).map((mi) => `cron(${mi} 4 * * ? *)`),
  fc
    .integer({ min: 1, max: 9 })
    .filter((n) => n !== 6)
    .map((n) => `cron(${Array.from({ length: n }, () => '*').join(' ')})`),
  fc.integer({ min: 0, max: 0 }).map((n) => `rate(${n} days)`),
  fc.integer({ min: 1, max: 30 }).map((n) => `rate(-${n} days)`),
  fc.constantFrom(
    'rate(1 fortnight)',
    'cron()',
    'daily at 04:00',
    '0 4 * * *',
    'cron(0 4 * * ? * *)',
    'at(2026-13-45)',
  ),
  fc.string({ maxLength: 40 }).map((s) => `every ${s}`),
);
const badCron = fc
  .tuple(scheduleTarget, badExpression)
  .map(([t, v]) => m('bad-schedule', ['schedules', t], v, /invalid schedule expression/));

const badTimeZone = fc
  .oneof(
    fc.constantFrom('Asia/Tokio', 'Mars/Olympus', 'UTC+9', 'Tokyo', 'Asia/Tokyo ', 'asia/tokyo_x'),
    fc.string({ minLength: 1, maxLength: 20 }).map((s) => `Nowhere/${s}_City`),
  )
  .map((v) => m('bad-time-zone', ['timezone'], v, /expected an IANA time zone/));

function misspellings(key: string): string[] {
  return [
    key.slice(0, -1),
    `${key}s`,
    key.toUpperCase(),
    key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
  ];
}
const unknownKey = fc
  .tuple(fc.constantFrom(...MAPPINGS), fc.nat(), fc.string({ minLength: 1, maxLength: 12 }), fc.boolean())
  .map(([path, pick, random, misspell]) => {
    const obj = valueAt(referenceDoc(), path) as Record<string, unknown>;
    const keys = Object.keys(obj);
    const candidates = misspell ? keys.flatMap(misspellings) : [`x-${random}`, '__proto__'];
    const key = candidates.filter((k) => k && !keys.includes(k))[pick % candidates.length] ?? `x-${random}`;
    return { kind: 'unknown-key', path, key, value: 1, says: /unknown key\(s\)/ } satisfies Mutation;
  });

const S3 = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(.*\/)?$/;
const badS3 = fc
  .tuple(
    fc.constantFrom<Path>(['content', 0, 'source'], ['content', 1, 'source'], ['logs', 'landing']),
    fc.oneof(
      fc.constantFrom(
        'app1-uploads/images/',
        's3://App1-Uploads/images/',
        's3://b/',
        's3://app1-uploads/images',
        'https://app1-uploads.s3.amazonaws.com/images/',
        's3://app1_uploads/images/',
        's3:///images/',
      ),
      fc.string({ maxLength: 30 }).filter((s) => !S3.test(s)),
    ),
  )
  .map(([p, v]) => m('bad-s3-url', p, v, /expected an S3 URL/));

const badIdentifier = fc.oneof(
  fc
    .oneof(
      fc.integer({ min: 1, max: 11 }).map((n) => '7'.repeat(n)),
      fc.integer({ min: 13, max: 20 }).map((n) => '7'.repeat(n)),
      fc.constantFrom('abcdefghijkl', '2109-8765-4321'),
    )
    .map((v) => m('bad-account-or-arn', ['isolatedAccount', 'accountId'], v, /12-digit AWS account id/)),
  fc
    .constantFrom(
      'arn:aws:iam::210987654321:user/kura',
      'kura-restore',
      'arn:aws:iam::21098765432:role/kura-restore',
      'arn:aws:sts::210987654321:assumed-role/kura-restore',
    )
    .map((v) => m('bad-account-or-arn', ['isolatedAccount', 'roleArn'], v, /expected an IAM role ARN/)),
  fc
    .constantFrom('arn:aws:iam::111111111111:role/kura-restore')
    .map((v) =>
      m('bad-account-or-arn', ['isolatedAccount', 'roleArn'], v, /expected a role in the isolated account/),
    ),
  fc
    .tuple(
      fc.constantFrom<Path>(['region'], ['database', 'copy', 'region'], ['isolatedAccount', 'region']),
      fc.constantFrom('tokyo', 'ap-northeast', 'AP-NORTHEAST-1', 'ap-northeast-1a'),
    )
    .map(([p, v]) => m('bad-region', p, v, /expected an AWS region/)),
  fc
    .constantFrom('Kura_Vault', 'ab', 'a'.repeat(64), '-bucket', 's3://kura-vault')
    .map((v) => m('bad-bucket', ['vault', 'bucket'], v, /expected an S3 bucket name/)),
  fc.constantFrom('kura-vault').map((v) => m('bad-alias', ['vault', 'kmsKeyAlias'], v, /"alias\/"/)),
  fc.constantFrom('STRICT', 'governance').map((v) => m('bad-enum', ['vault', 'objectLock', 'mode'], v)),
  fc.integer({ min: 2, max: 9 }).map((v) => m('bad-version', ['version'], v, /expected 1/)),
);

const duplicateContent = fc.constant<Mutation>({
  kind: 'duplicate-content-name',
  path: ['content', 1, 'name'],
  value: 'app1-images',
  says: /duplicate content name "app1-images"/,
});

/** String keys where "" must be refused (a tag value may be empty in AWS; the rest may not). */
const MUST_NOT_BE_EMPTY = STRING_LEAVES;
const emptyString = fc.constantFrom(...MUST_NOT_BE_EMPTY).map((p) => m('empty-string', p, ''));
const hugeString = fc
  .tuple(fc.constantFrom(...STRING_LEAVES), fc.integer({ min: 3_000, max: 200_000 }))
  .map(([p, n]) => m('huge-string', p, 'x'.repeat(n)));

/** One mutation of any kind. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  deleteRequired,
  wrongType,
  outOfRange,
  badCron,
  badTimeZone,
  unknownKey,
  badS3,
  badIdentifier,
  duplicateContent,
  emptyString,
  hugeString,
);

/** One to three mutations of the reference policy. */
export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 3 });

// ---- whole files that are not a policy at all -----------------------------

const REFERENCE_TEXT = stringify(referenceDoc());

/** File contents (text or bytes) that must fail at the load level. */
export const badFileArb: fc.Arbitrary<{ kind: string; content: string | Uint8Array }> = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 0, max: REFERENCE_TEXT.split('\n').length - 1 }),
      fc.constantFrom(
        '  timezone: [unclosed',
        '\ttimezone: Asia/Tokyo',
        'vault: "unterminated',
        ': :',
        '- a\nb: c',
      ),
    )
    .map(([line, junk]) => {
      const lines = REFERENCE_TEXT.split('\n');
      lines.splice(line, 0, junk);
      return { kind: 'yaml-syntax', content: lines.join('\n') };
    }),
  fc
    .oneof(
      fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 5 }),
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    )
    .map((v) => ({ kind: 'not-a-mapping', content: v === null ? '' : stringify(v) })),
  fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => ({ kind: 'binary', content: b })),
  fc
    .integer({ min: 0, max: REFERENCE_TEXT.indexOf('  bucket:') })
    .map((n) => ({ kind: 'truncated', content: REFERENCE_TEXT.slice(0, n) })),
  fc.constantFrom(
    { kind: 'alias-cycle', content: 'version: 1\ncontent: &a [*a]\n' },
    {
      kind: 'alias-bomb',
      content: `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [${'*a,'.repeat(9)}]\nc: &c [${'*b,'.repeat(9)}]\nd: &d [${'*c,'.repeat(9)}]\ne: [${'*d,'.repeat(9)}]\n`,
    },
    { kind: 'multi-document', content: `${REFERENCE_TEXT}---\nversion: 1\n` },
    { kind: 'duplicate-key', content: `${REFERENCE_TEXT}timezone: Europe/Paris\n` },
    { kind: 'json-not-yaml-policy', content: '{"version": 1, "timezone": ' },
  ),
);
