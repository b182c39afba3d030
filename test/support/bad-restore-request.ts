// Test support: fast-check arbitraries that break a valid orchestrated
// restore request. Each mutation names the field the refusal must name.
import fc from 'fast-check';

export const NOW = new Date('2026-11-21T00:00:00Z');

/** A valid request against the reference policy at NOW. */
export function referenceRequest(): Record<string, unknown> {
  return {
    reason: 'INC-4711: orders table dropped by a migration',
    ticket: 'INC-4711',
    database: { instance: 'shop-db', snapshot: 'latest' },
    instances: [{ instance: 'i-0abc12345def67890', image: 'latest' }],
    content: [{ source: 'app1-images', generation: 'latest' }],
    logs: [{ class: 'access', host: 'web-1', from: '2026-11-01', to: '2026-11-20' }],
  };
}

type Path = (string | number)[];

export interface RequestMutation {
  kind: string;
  path: Path;
  value?: unknown;
  /** The field the message must start with, after "request: ". */
  field: string;
  says: RegExp;
  /** Delete instead of set. */
  remove?: boolean;
  /** Other keys to drop so that only this mutation is wrong (e.g. "at" excludes per-item picks). */
  alsoRemove?: Path[];
}

const EXPECTED = /expected|in the future|older than|listed more than once|nothing to restore|after to/;
const mut = (
  kind: string,
  path: Path,
  value: unknown,
  says: RegExp = EXPECTED,
  extra: Partial<RequestMutation> = {},
): RequestMutation => ({ kind, path, value, field: path.map(String).join('.'), says, ...extra });

/** Per-item picks that "at" excludes. */
const PICKS: Path[] = [
  ['database', 'snapshot'],
  ['instances', 0, 'image'],
  ['content', 0, 'generation'],
];

const iso = (ms: number) => new Date(ms).toISOString();

const missing = fc
  .constantFrom<Path>(
    ['reason'],
    ['database', 'instance'],
    ['instances', 0, 'instance'],
    ['content', 0, 'source'],
    ['logs', 0, 'class'],
    ['logs', 0, 'host'],
    ['logs', 0, 'from'],
  )
  .map((path) => mut('missing-field', path, undefined, /missing; expected/, { remove: true }));

const wrongType = fc.oneof(
  fc
    .tuple(
      fc.constantFrom<Path>(['reason'], ['database', 'instance'], ['logs', 0, 'from'], ['ticket'], ['id']),
      fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({})),
    )
    .map(([p, v]) => mut('wrong-type', p, v)),
  fc
    .tuple(
      fc.constantFrom<Path>(['database'], ['target'], ['instances', 0], ['logs', 0]),
      fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant([1])),
    )
    .map(([p, v]) => mut('wrong-type', p, v, /expected object/)),
  fc
    .tuple(
      fc.constantFrom<Path>(['instances'], ['content'], ['logs']),
      fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant({})),
    )
    .map(([p, v]) => mut('wrong-type', p, v, /expected array/)),
  fc.constantFrom('yes', 1, 'true').map((v) => mut('wrong-type', ['approval'], v, /expected boolean/)),
);

const notIso = fc.oneof(
  fc.constantFrom(
    '2026-11-20',
    '2026-11-20T03:00:00',
    '2026-13-01T00:00:00Z',
    '2026-02-30T04:00:00+09:00',
    '2026-11-20T24:00:00Z',
    '2026-11-20T03:61:00Z',
    'yesterday',
    '20261120T030000Z',
    '',
  ),
  fc.string({ maxLength: 30 }).filter((s) => !/^\d{4}-/.test(s)),
);
const badAt = notIso.map((v) =>
  mut('bad-at', ['at'], v, /expected an ISO-8601 time with a zone/, { alsoRemove: PICKS }),
);
const futureAt = fc.integer({ min: 1, max: 5_000_000 }).map((minutes) =>
  mut('future-at', ['at'], iso(NOW.getTime() + minutes * 60_000), /is in the future/, {
    alsoRemove: PICKS,
  }),
);
const badPointInTime = fc.oneof(
  fc
    .integer({ min: 1, max: 100_000 })
    .map((minutes) =>
      mut(
        'future-point-in-time',
        ['database', 'snapshot'],
        iso(NOW.getTime() + minutes * 60_000),
        /in the future/,
      ),
    ),
  fc
    .integer({ min: 8, max: 3_000 })
    .map((days) =>
      mut(
        'point-in-time-too-old',
        ['database', 'snapshot'],
        iso(NOW.getTime() - days * 86_400_000),
        /older than/,
      ),
    ),
  fc
    .constantFrom('2026-11-20', '2026-02-30T01:00:00Z', '2026-11-20 03:00')
    .map((v) => mut('bad-point-in-time', ['database', 'snapshot'], v, /expected an ISO-8601 time/)),
);
const badDates = fc.oneof(
  fc
    .constantFrom('2026-02-30', '2026-13-01', '2026/11/01', '01-11-2026', '2026-11-1', '')
    .map((v) => mut('bad-date', ['logs', 0, 'from'], v, /expected a date yyyy-mm-dd/)),
  fc
    .integer({ min: 1, max: 400 })
    .map((d) =>
      mut(
        'future-date',
        ['logs', 0, 'to'],
        iso(NOW.getTime() + d * 86_400_000).slice(0, 10),
        /is in the future/,
      ),
    ),
  fc.constant(mut('reversed-range', ['logs', 0, 'from'], '2026-11-21', /after to/, { field: 'logs.0' })),
);
const unknownInPolicy = fc.oneof(
  fc
    .constantFrom('debug', 'audit', 'nginx')
    .map((v) =>
      mut('unknown-log-class', ['logs', 0, 'class'], v, /expected one of access, application, system/),
    ),
  fc
    .constantFrom('app3-images', 'app1-image', 'shop')
    .map((v) =>
      mut('unknown-content-source', ['content', 0, 'source'], v, /expected one of app1-images, app2-images/),
    ),
);
const badIds = fc.oneof(
  fc
    .constantFrom('shop_db!', '1shop', '', 'a'.repeat(64))
    .map((v) => mut('bad-id', ['database', 'instance'], v)),
  fc.constantFrom('web-1', 'i-XYZ', 'i-123').map((v) => mut('bad-id', ['instances', 0, 'instance'], v)),
  fc.constantFrom('newest', 'ami-XYZ', 'ami-1').map((v) => mut('bad-id', ['instances', 0, 'image'], v)),
  fc.constantFrom('2026/11/01', 'yesterday').map((v) => mut('bad-id', ['content', 0, 'generation'], v)),
  fc.constantFrom('INC 4711', 'ab', 'Upper-Case').map((v) => mut('bad-id', ['id'], v)),
  fc.constantFrom('999999999999', 'production').map((v) =>
    mut('bad-target', ['target', 'account'], { account: v }, /expected "isolated"/, {
      path: ['target'],
      field: 'target.account',
    }),
  ),
  fc
    .constantFrom('tokyo', 'AP-NORTHEAST-1')
    .map((v) => mut('bad-target', ['target'], { region: v }, EXPECTED, { field: 'target.region' })),
  fc.constantFrom('', ' ', '  x ').map((v) => mut('empty-reason', ['reason'], v, /expected a reason/)),
  fc
    .integer({ min: 1001, max: 300_000 })
    .map((n) => mut('huge-reason', ['reason'], 'x'.repeat(n), /at most 1000/)),
  fc
    .constantFrom('/etc/', '/')
    .map((v) => mut('absolute-prefix', ['content', 0, 'prefix'], v, /starts with "\/"/)),
);
const unknownKey = fc
  .tuple(
    fc.constantFrom<Path>([], ['database'], ['instances', 0], ['content', 0], ['logs', 0]),
    fc.constantFrom('color', 'snapshotId', 'Reason', 'force', '__proto__'),
  )
  .map(([path, key]) => ({
    kind: 'unknown-key',
    path: [...path, key],
    value: true,
    field: path.length ? path.map(String).join('.') : '(top level)',
    says: /unknown key\(s\)/,
  }));
const duplicate = fc
  .constantFrom<Path>(['instances'], ['content'], ['logs'])
  .map((path) => mut('duplicate-item', path, 'DUPLICATE', /listed more than once/));
const nothing = fc.constant<RequestMutation>({
  kind: 'nothing-to-restore',
  path: ['database'],
  field: 'nothing to restore',
  says: /expected at least one of database, instances, content, logs/,
  remove: true,
  alsoRemove: [['instances'], ['content'], ['logs']],
});

export const requestMutationArb: fc.Arbitrary<RequestMutation> = fc.oneof(
  missing,
  wrongType,
  badAt,
  futureAt,
  badPointInTime,
  badDates,
  unknownInPolicy,
  badIds,
  unknownKey,
  duplicate,
  nothing,
);

/** Applies one mutation to a fresh reference request. */
export function mutateRequest(m: RequestMutation): Record<string, unknown> {
  const req = referenceRequest();
  const drop = (path: Path) => {
    let cur: Record<string | number, unknown> = req;
    for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
    delete cur[path.at(-1) as string | number];
  };
  for (const p of m.alsoRemove ?? []) drop(p);
  if (m.remove) {
    drop(m.path);
    return req;
  }
  let cur: Record<string | number, unknown> = req;
  for (const k of m.path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = m.path.at(-1) as string | number;
  if (m.value === 'DUPLICATE') {
    const list = cur[last] as unknown[];
    list.push(structuredClone(list[0]));
  } else {
    Object.defineProperty(cur, last, {
      value: m.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return req;
}

/** Whole request files that are not JSON objects at all. */
export const badRequestTextArb: fc.Arbitrary<{ kind: string; text: string | Uint8Array }> = fc.oneof(
  fc
    .integer({ min: 1, max: JSON.stringify(referenceRequest()).length - 1 })
    .map((n) => ({ kind: 'truncated-json', text: JSON.stringify(referenceRequest()).slice(0, n) })),
  fc.constantFrom(
    { kind: 'not-json', text: 'reason: yaml is not json\n' },
    { kind: 'empty-file', text: '' },
    { kind: 'json-null', text: 'null' },
    { kind: 'json-list', text: '[{"reason": "x"}]' },
    { kind: 'json-string', text: '"restore shop-db please"' },
    {
      kind: 'trailing-comma',
      text: '{"reason": "INC-4711 orders dropped", "database": {"instance": "shop-db"},}',
    },
  ),
  fc.uint8Array({ minLength: 1, maxLength: 256 }).map((b) => ({ kind: 'binary', text: b })),
);
