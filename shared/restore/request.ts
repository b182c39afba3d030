// Restore (domain): the orchestrated restore request, validated by schema
// before anything is touched. Pure: no AWS imports. The JSON form is a
// contract (`kura restore start --request file.json`); its minimal form is
// {"reason": "...", "database": {"instance": "<id>", "snapshot": "latest"}}.
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { localDate, onCalendar, stamp } from '../policy/calendar.ts';
import { formatIssues } from '../policy/parse.ts';
import type { Policy } from '../policy/schema.ts';
import { InputError } from '../runtime/errors.ts';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const isIsoTime = (s: string) => ISO_TIME.test(s) && onCalendar(s) && !Number.isNaN(Date.parse(s));
const isoTime = z
  .string()
  .check(z.refine(isIsoTime, 'expected an ISO-8601 time with a zone, such as 2026-11-21T03:00:00+09:00'));
const date = z
  .string()
  .check(
    z.refine(
      (s) => DATE.test(s) && onCalendar(s) && !Number.isNaN(Date.parse(s)),
      'expected a date yyyy-mm-dd',
    ),
  );
const name = (what: string, re: RegExp, example: string) =>
  z.string().check(z.regex(re, `expected ${what} such as ${example}`));

export const restoreRequestSchema = z.strictObject({
  /** Request id: re-running the same id resumes. Derived from the request when absent. */
  id: z.optional(
    name('a request id (a-z, 0-9, -; 3 to 24 characters)', /^[a-z0-9][a-z0-9-]{2,23}$/, 'inc-4711-shop-db'),
  ),
  reason: z.string().check(
    z.trim(),
    z.minLength(
      3,
      'expected a reason of a few words (who asked, why): it is recorded on everything restored',
    ),
    // Bounded: the request travels as state machine input (256 KB) and is kept in tags and reports.
    z.maxLength(1000, 'expected a reason of at most 1000 characters'),
  ),
  ticket: z.optional(z.string().check(z.maxLength(100, 'expected a ticket id of at most 100 characters'))),
  target: z._default(
    z.strictObject({
      account: z._default(z.string(), 'isolated'),
      region: z.optional(name('an AWS region', /^[a-z]{2}(-[a-z]+)+-\d$/, 'ap-northeast-1')),
    }),
    { account: 'isolated' },
  ),
  /** Pick for every class the recovery point closest before this time. */
  at: z.optional(isoTime),
  /** Wait for a second person's approval (task token) before creating anything. */
  approval: z._default(z.boolean(), false),
  /**
   * The yearly rehearsal (schedules.rehearsal): every class the policy backs up, each
   * source's recovery point closest before `at`; after the restore the machine checks,
   * cleans up and chains a rehearsal report. Lists no items of its own. Optional, not
   * defaulted: an on-call request's id (a hash of its content) stays what it was.
   */
  rehearsal: z.optional(z.boolean()),
  database: z.optional(
    z.strictObject({
      instance: name('an RDS instance id', /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'shop-db'),
      /** The source account the database lives in; required when the name is in more than one (policy sources). */
      account: z.optional(name('a 12-digit source account id', /^\d{12}$/, '"333333333333"')),
      /** A snapshot id, "latest", or an ISO time within the point-in-time window. */
      snapshot: z.optional(
        z.string().check(z.minLength(1, 'expected a snapshot id, "latest" or an ISO time')),
      ),
    }),
  ),
  instances: z._default(
    z.array(
      z.strictObject({
        instance: name('an EC2 instance id', /^i-[0-9a-f]{8,17}$/, 'i-0abc12345def67890'),
        image: z.optional(
          z
            .string()
            .check(
              z.regex(/^(latest|ami-[0-9a-f]{8,17})$/, 'expected "latest" or an AMI id such as ami-0abc1234'),
            ),
        ),
      }),
    ),
    [],
  ),
  content: z._default(
    z.array(
      z.strictObject({
        source: name('a content source name from the policy', /^[a-z0-9][a-z0-9-]*$/, 'app1-images'),
        generation: z.optional(
          z
            .string()
            .check(
              z.regex(/^(latest|\d{4}-\d{2}-\d{2})$/, 'expected "latest" or a generation date yyyy-mm-dd'),
            ),
        ),
        prefix: z.optional(z.string()),
      }),
    ),
    [],
  ),
  logs: z._default(
    z.array(
      z.strictObject({
        class: name('a log class from the policy', /^[a-z][a-z0-9-]*$/, 'access'),
        host: name('a host name', /^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'web-1'),
        from: date,
        to: z.optional(date),
      }),
    ),
    [],
  ),
});

export type RestoreRequestInput = z.input<typeof restoreRequestSchema>;
type Raw = z.infer<typeof restoreRequestSchema>;

/** How the recovery point of one item is chosen. */
export type Selection =
  | { kind: 'latest' }
  | { kind: 'id'; id: string }
  | { kind: 'before'; time: string } // closest at or before (from `at`)
  | { kind: 'pointInTime'; time: string } // database only: PITR
  | { kind: 'generationDate'; date: string }; // content: the generation of that date

export interface RequestedItem {
  key: string;
  class: 'database' | 'image' | 'content' | 'logs';
  source: string;
  selection: Selection;
  options: Record<string, unknown>;
}

export interface RestoreRequest extends Omit<Raw, 'id' | 'target'> {
  id: string;
  target: { account: 'isolated'; accountId: string; region: string };
  items: RequestedItem[];
}

/** A stable JSON text: keys sorted at every level, so the same request hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A rehearsal's id, also its report's run id: rehearsal-<yyyymmddHHMM> (shared/domain/validation-report). */
export const REHEARSAL_ID_PREFIX = 'rehearsal-';
export const rehearsalId = (at: Date): string => `${REHEARSAL_ID_PREFIX}${stamp(at)}`;

/** The id of a request without one: the same request (same content) always gets the same id. */
export function requestIdOf(raw: Omit<Raw, 'id'>): string {
  if (raw.rehearsal && raw.at) return rehearsalId(new Date(raw.at));
  return `rq-${createHash('sha256').update(canonicalJson(raw)).digest('hex').slice(0, 12)}`;
}

export function itemKey(cls: RequestedItem['class'], source: string): string {
  return `${cls}-${source}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

function semanticProblems(r: Raw, policy: Policy, now: Date): string[] {
  const out: string[] = [];
  const at = r.at ? new Date(r.at) : undefined;
  const listed = Boolean(r.database) || r.instances.length + r.content.length + r.logs.length > 0;
  if (r.rehearsal) {
    // The rehearsal restores everything the policy backs up: it names no items, one time, its own id.
    if (listed)
      out.push(
        'request: rehearsal: true lists no database, instances, content or logs; expected none (the rehearsal restores every class the policy backs up)',
      );
    if (!r.at) out.push('request: rehearsal: true needs "at"; expected the one point in time to restore');
    if (r.id !== undefined && !r.id.startsWith(REHEARSAL_ID_PREFIX))
      out.push(
        `request: id: found "${r.id}"; expected a rehearsal id starting with "${REHEARSAL_ID_PREFIX}" (or none: ${REHEARSAL_ID_PREFIX}<yyyymmddHHMM of at>)`,
      );
  } else if (!listed) {
    out.push('request: nothing to restore; expected at least one of database, instances, content, logs');
  }
  if (at && at.getTime() > now.getTime())
    out.push(`request: at: ${r.at} is in the future; expected a time before now (${now.toISOString()})`);
  const iso = policy.isolatedAccount;
  if (!iso) out.push('policy: isolatedAccount is not set; restores go to the isolated account only');
  else if (r.target.account !== 'isolated' && r.target.account !== iso.accountId) {
    out.push(
      `request: target.account: found "${r.target.account}"; expected "isolated" or ${iso.accountId} (kura restores only into the isolated account)`,
    );
  }
  if (r.database?.account !== undefined) {
    const ids = (policy.sources ?? []).map((x) => x.accountId);
    if (ids.length === 0)
      out.push(
        `request: database.account: found "${r.database.account}"; expected no account (the policy has no sources: single-account mode)`,
      );
    else if (!ids.includes(r.database.account))
      out.push(
        `request: database.account: found "${r.database.account}"; expected one of the policy's source accounts ${ids.join(', ')}`,
      );
  }
  if (r.database) {
    const s = r.database.snapshot;
    if (s === undefined && !at)
      out.push(
        'request: database.snapshot: missing; expected a snapshot id, "latest", an ISO time, or a top-level "at"',
      );
    if (s !== undefined && at)
      out.push(
        `request: database.snapshot: "${s}" given together with "at"; expected one of them (at picks the snapshot)`,
      );
    if (s !== undefined && s !== 'latest' && /^\d{4}-/.test(s)) {
      if (!isIsoTime(s)) {
        out.push(
          `request: database.snapshot: found "${s}"; expected an ISO-8601 time with a zone for a point-in-time restore`,
        );
      } else {
        if (Date.parse(s) > now.getTime())
          out.push(`request: database.snapshot: point in time ${s} is in the future`);
        const days = policy.database?.retainDays;
        if (days && Date.parse(s) < now.getTime() - days * 86_400_000) {
          out.push(
            `request: database.snapshot: point in time ${s} is older than the ${days}-day point-in-time window of the policy`,
          );
        }
      }
    } else if (s !== undefined && s !== 'latest' && !/^[a-zA-Z][a-zA-Z0-9-]{0,254}$/.test(s)) {
      out.push(`request: database.snapshot: found "${s}"; expected a snapshot id, "latest" or an ISO time`);
    }
  }
  const seen = (list: string[], what: string) => {
    const dup = list.filter((v, i) => list.indexOf(v) !== i);
    for (const d of new Set(dup)) out.push(`request: ${what}: "${d}" is listed more than once`);
  };
  seen(
    r.instances.map((i) => i.instance),
    'instances',
  );
  seen(
    r.content.map((c) => `${c.source}${c.prefix ?? ''}`),
    'content',
  );
  seen(
    r.logs.map((l) => `${l.class}/${l.host}`),
    'logs',
  );
  for (const [i, inst] of r.instances.entries()) {
    if (inst.image !== undefined && at)
      out.push(
        `request: instances.${i}.image: "${inst.image}" given together with "at"; expected one of them`,
      );
  }
  if (r.instances.length && !policy.images)
    out.push('request: instances: the policy has no images section; nothing to restore images from');
  const names = policy.content.map((c) => c.name);
  for (const [i, c] of r.content.entries()) {
    if (!names.includes(c.source))
      out.push(
        `request: content.${i}.source: found "${c.source}"; expected one of ${names.join(', ') || '(none in the policy)'}`,
      );
    if (c.generation !== undefined && at)
      out.push(
        `request: content.${i}.generation: "${c.generation}" given together with "at"; expected one of them`,
      );
    if (c.prefix?.startsWith('/'))
      out.push(
        `request: content.${i}.prefix: "${c.prefix}" starts with "/"; expected a key prefix relative to the source`,
      );
  }
  const classes = Object.keys(policy.logs?.classes ?? {});
  for (const [i, l] of r.logs.entries()) {
    if (!classes.includes(l.class))
      out.push(
        `request: logs.${i}.class: found "${l.class}"; expected one of ${classes.join(', ') || '(none in the policy)'}`,
      );
    // Log days are days in the policy's time zone (log-archive files them so).
    const to = l.to ?? (at ? localDate(at, policy.timezone) : undefined);
    if (!to) out.push(`request: logs.${i}.to: missing; expected a date yyyy-mm-dd (or a top-level "at")`);
    else if (to < l.from)
      out.push(`request: logs.${i}: from ${l.from} is after to ${to}; expected from <= to`);
    if (to && to > localDate(now, policy.timezone)) out.push(`request: logs.${i}.to: ${to} is in the future`);
  }
  return out;
}

function selectionFor(explicit: string | undefined, at: string | undefined): Selection {
  if (at) return { kind: 'before', time: new Date(at).toISOString() };
  if (!explicit || explicit === 'latest') return { kind: 'latest' };
  return { kind: 'id', id: explicit };
}

function toItems(r: Raw, timeZone: string): RequestedItem[] {
  const items: RequestedItem[] = [];
  if (r.database) {
    const s = r.database.snapshot;
    const selection: Selection =
      s && /^\d{4}-/.test(s)
        ? { kind: 'pointInTime', time: new Date(s).toISOString() }
        : selectionFor(s, r.at);
    items.push({
      key: itemKey('database', r.database.instance),
      class: 'database',
      source: r.database.instance,
      selection,
      options: r.database.account ? { account: r.database.account } : {},
    });
  }
  for (const i of r.instances) {
    items.push({
      key: itemKey('image', i.instance),
      class: 'image',
      source: i.instance,
      selection: selectionFor(i.image, r.at),
      options: {},
    });
  }
  for (const c of r.content) {
    const selection: Selection =
      c.generation && c.generation !== 'latest'
        ? { kind: 'generationDate', date: c.generation }
        : selectionFor(undefined, r.at);
    const suffix = c.prefix ? `-${createHash('sha256').update(c.prefix).digest('hex').slice(0, 6)}` : '';
    items.push({
      key: `${itemKey('content', c.source)}${suffix}`,
      class: 'content',
      source: c.source,
      selection,
      // keyPrefix: only the keys under it, relative to the source (the step's `prefix` is where to).
      options: c.prefix ? { keyPrefix: c.prefix } : {},
    });
  }
  for (const l of r.logs) {
    const to = l.to ?? (r.at ? localDate(new Date(r.at), timeZone) : l.from);
    items.push({
      key: itemKey('logs', `${l.class}-${l.host}`),
      class: 'logs',
      source: `${l.class}/${l.host}`,
      // The newest bundle at or before the end of the range.
      selection: { kind: 'before', time: r.at ? new Date(r.at).toISOString() : `${to}T23:59:59.999Z` },
      options: { class: l.class, host: l.host, from: l.from, to },
    });
  }
  return items;
}

/**
 * Validates a restore request against its schema and the policy. Throws an
 * InputError listing every problem; touches nothing.
 */
export function parseRestoreRequest(raw: unknown, policy: Policy, now: Date): RestoreRequest {
  const parsed = restoreRequestSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(formatIssues(parsed.error.issues, raw, 'request'));
  const r = parsed.data;
  const problems = semanticProblems(r, policy, now);
  if (problems.length) throw new InputError(problems);
  const iso = policy.isolatedAccount as NonNullable<Policy['isolatedAccount']>;
  const { id, target, ...rest } = r;
  return {
    ...rest,
    id: id ?? requestIdOf({ ...rest, target }),
    target: {
      account: 'isolated',
      accountId: iso.accountId,
      region: target.region ?? iso.region ?? policy.region,
    },
    items: toItems(r, policy.timezone),
  };
}
