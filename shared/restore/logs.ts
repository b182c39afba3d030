// Restore step (logs class), shared by the validation and restore state
// machines. Recovery points are committed monthly bundles (a manifest
// exists), newest month first. `restore` copies a bundle and its manifest into
// the isolated account's bucket and reads the copy back against the manifest
// (validation); given a day range (options from/to) it restores every file of
// the range, loose or bundled, verified, under kura-restore/logs/.
import { Readable } from 'node:stream';
import { isAwsError } from '../runtime/aws-errors.ts';
import type { LogsRestorePorts } from '../aws/restore-ports.ts';
import { localDate } from '../policy/calendar.ts';
import { readBundle } from '../domain/logs/bundle-codec.ts';
import {
  BUNDLE_ROOT,
  bundleMonthPrefix,
  loosePrefix,
  parseBundleKey,
  parseLooseKey,
} from '../domain/logs/keys.ts';
import { compareWithManifest, parseManifest } from '../domain/logs/manifest.ts';
import { lastDayOfMonth, monthsBetween } from '../domain/logs/months.ts';
import { InputError } from '../runtime/errors.ts';
import type { Deps } from '../aws/deps.ts';
import { executeLogRestore, planLogRestore, readSealed } from './log-files.ts';
import type {
  CreatedResource,
  IsolatedTarget,
  RecoveryPointRef,
  RestoredItem,
  RestoreStep,
} from './types.ts';

export const RESTORE_PREFIX = 'kura-restore/logs/';

function s3Resource(target: IsolatedTarget, bucket: string, key: string): CreatedResource {
  return {
    type: 'AWS::S3::Object',
    id: `s3://${bucket}/${key}`,
    account: target.accountId,
    region: target.region,
    cleanup: `aws s3 rm ${key.endsWith('/') ? '--recursive ' : ''}s3://${bucket}/${key}`,
  };
}

/**
 * Committed bundles, newest month first. For logs, `before` selects by the
 * month a bundle covers (a bundle of September serves a restore "at or before
 * September 10th"), not by when it was made (months later).
 */
export async function listLogs(
  ports: Pick<LogsRestorePorts, 'logs'>,
  deps: Deps,
  opts: { source?: string; before?: Date; range?: { from: string; to: string } } = {},
): Promise<RecoveryPointRef[]> {
  if (opts.range && opts.source) return listRange(ports, deps, opts.source, opts.range, opts.before);
  const { policy, clients } = deps;
  const store = ports.logs(clients);
  const prefix = opts.source ? `${BUNDLE_ROOT}${opts.source.replace(/\/?$/, '/')}` : BUNDLE_ROOT;
  const beforeMonth = opts.before?.toISOString().slice(0, 7);
  const out: RecoveryPointRef[] = [];
  for (const o of await store.list(policy.vault.bucket, prefix)) {
    const ref = parseBundleKey(o.key);
    if (ref?.kind !== 'manifest' || (beforeMonth && ref.month > beforeMonth)) continue;
    out.push({
      class: 'logs',
      source: `${ref.logClass}/${ref.host}`,
      id: o.key.replace(/\.manifest\.json$/, '.tar.gz'),
      time: o.lastModified.toISOString(),
      region: clients.region,
      details: {
        month: ref.month,
        part: ref.part,
        manifestKey: o.key,
        covers: `${ref.month}-01..${lastDayOfMonth(ref.month)}`,
      },
    });
  }
  return out.sort(
    (a, b) => String(b.details?.month).localeCompare(String(a.details?.month)) || b.id.localeCompare(a.id),
  );
}

/** The instant a local day (or the first day of a month) begins in `timeZone`. */
function startOfLocalDay(day: string, timeZone: string): string {
  const midnightUtc = Date.parse(`${day}T00:00:00Z`);
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(midnightUtc))
      .map((x) => [x.type, x.value]),
  );
  const wall = Date.parse(`${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}Z`);
  return new Date(midnightUtc - (wall - midnightUtc)).toISOString();
}

/**
 * The recovery points that hold part of a day range of one `<class>/<host>`
 * (an orchestrated restore): archived days still loose and committed bundles,
 * newest first. Recent logs are loose for keepMonths, so a restore of the last
 * days must not need a bundle. A point's `time` is when the period it covers
 * begins (logs of a day are archived the day after; a bundle months later), so
 * `before` selects, as for the other classes, what covers the time asked for.
 */
async function listRange(
  ports: Pick<LogsRestorePorts, 'logs'>,
  deps: Deps,
  source: string,
  range: { from: string; to: string },
  before?: Date,
): Promise<RecoveryPointRef[]> {
  const { policy, clients } = deps;
  const [logClass, host] = source.split('/') as [string, string];
  const beforeDay = before ? localDate(before, policy.timezone) : undefined;
  const last = beforeDay && beforeDay < range.to ? beforeDay : range.to;
  const store = ports.logs(clients);
  const vault = policy.vault.bucket;
  const days = new Map<string, { files: number; bytes: number }>();
  const out: RecoveryPointRef[] = [];
  if (last < range.from) return []; // the whole range is after `before`
  for (const month of monthsBetween(range.from, last)) {
    for (const o of await store.list(vault, loosePrefix(logClass, host, `${month}-`))) {
      const ref = parseLooseKey(o.key);
      if (!ref || ref.day < range.from || ref.day > last) continue;
      const d = days.get(ref.day) ?? { files: 0, bytes: 0 };
      d.files += 1;
      d.bytes += o.size;
      days.set(ref.day, d);
    }
    for (const o of await store.list(vault, bundleMonthPrefix(logClass, host, month))) {
      const ref = parseBundleKey(o.key);
      if (ref?.kind !== 'manifest') continue;
      out.push({
        class: 'logs',
        source,
        id: o.key.replace(/\.manifest\.json$/, '.tar.gz'),
        time: startOfLocalDay(`${month}-01`, policy.timezone),
        region: clients.region,
        details: {
          month,
          part: ref.part,
          manifestKey: o.key,
          covers: `${month}-01..${lastDayOfMonth(month)}`,
          archivedAt: o.lastModified.toISOString(),
        },
      });
    }
  }
  for (const [day, d] of days) {
    out.push({
      class: 'logs',
      source,
      id: loosePrefix(logClass, host, `${day}/`),
      time: startOfLocalDay(day, policy.timezone),
      region: clients.region,
      details: { kind: 'day', day, covers: day, files: d.files, bytes: d.bytes },
    });
  }
  return out.sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id));
}

async function restoreRange(
  ports: LogsRestorePorts,
  deps: Deps,
  target: IsolatedTarget,
  bucket: string,
  rp: RecoveryPointRef,
  from: string,
  to: string,
  runId?: string,
) {
  const [logClass, host] = (rp.source ?? '').split('/') as [string, string];
  const store = ports.logs(deps.clients);
  const seals = ports.seals(store, deps.policy.vault.bucket);
  const plan = await planLogRestore(deps.policy, { store, seals }, { logClass, host, from, to });
  // A run's own prefix: two restores of the same host never mix, and cleanup removes only its own.
  const base = runId ? `${RESTORE_PREFIX}${runId}/` : RESTORE_PREFIX;
  const sink = ports.sink(target.clients, bucket, base);
  // Bundles in an archive class are asked back from S3 (hours): the state machine waits and calls again.
  const summary = await executeLogRestore(deps.policy, store, plan, sink, {
    requestArchiveRestore: true,
    clock: () => new Date(deps.clients.timer.now()),
  });
  const where = `${base}${logClass}/${host}/`;
  return { resources: [s3Resource(target, bucket, where)], summary, where };
}

async function restoreBundle(
  ports: LogsRestorePorts,
  deps: Deps,
  target: IsolatedTarget,
  bucket: string,
  rp: RecoveryPointRef,
) {
  const vault = deps.policy.vault.bucket;
  const store = ports.logs(deps.clients);
  const there = ports.logs(target.clients);
  const manifestKey = String(rp.details?.manifestKey ?? rp.id.replace(/\.tar\.gz$/, '.manifest.json'));
  // Trusted only as sealed: it names the bundle version and every member's hash.
  const manifestText = await readSealed({ store, seals: ports.seals(store, vault) }, vault, manifestKey);
  const manifest = parseManifest(manifestText, `s3://${vault}/${manifestKey}`);
  const copyKey = `${RESTORE_PREFIX}bundles/${manifest.bundle.key}`;
  const copyManifestKey = `${RESTORE_PREFIX}bundles/${manifestKey}`;
  // Streamed through: the isolated account needs no grant on the vault.
  const src = await store.read(vault, manifest.bundle.key, { versionId: manifest.bundle.versionId });
  const uploaded = await there.upload(bucket, copyKey, Readable.from(src.body), {
    tags: {},
    contentType: 'application/gzip',
  });
  await there.putText(bucket, copyManifestKey, manifestText, { tags: {}, contentType: 'application/json' });
  const back = await readBundle((await there.read(bucket, copyKey, { versionId: uploaded.versionId })).body);
  const problems = compareWithManifest(manifest.members, back.members, {
    expected: manifest.bundle,
    read: back.bundle,
  });
  if (problems.length)
    throw new Error(
      `restored copy s3://${bucket}/${copyKey} does not match its manifest: ${problems.slice(0, 3).join('; ')}`,
    );
  return {
    resources: [s3Resource(target, bucket, copyKey), s3Resource(target, bucket, copyManifestKey)],
    summary: {
      bundle: manifest.bundle.key,
      members: manifest.members.length,
      bytes: manifest.bundle.size,
      verified: true,
    },
  };
}

/** The logs restore step over the given adapters. */
export const logsStep = (ports: LogsRestorePorts): RestoreStep => ({
  class: 'logs',
  list: (deps, opts) => listLogs(ports, deps, opts),

  async restore(deps, target, rp, opts = {}): Promise<RestoredItem> {
    const bucket = target.bucket;
    if (!bucket)
      throw new InputError([
        'logs restore: the isolated target has no bucket; expected target.bucket for restored logs',
      ]);
    const started = new Date(deps.clients.timer.now());
    // A day's recovery point (listRange) is restored as that day's range.
    const day = rp.details?.kind === 'day' ? String(rp.details.day) : undefined;
    const from = typeof opts.from === 'string' ? opts.from : day;
    const to = typeof opts.to === 'string' ? opts.to : day;
    const runId = typeof opts.runId === 'string' ? opts.runId : undefined;
    if (runId !== undefined && !/^[a-z0-9-]{1,40}$/.test(runId))
      throw new InputError([`logs restore options: runId "${runId}": expected 1-40 characters a-z, 0-9, -`]);
    const out: { resources: CreatedResource[]; summary: unknown; where?: string } =
      from && to
        ? await restoreRange(ports, deps, target, bucket, rp, from, to, runId)
        : await restoreBundle(ports, deps, target, bucket, rp);
    const finished = new Date(deps.clients.timer.now());
    const item: RestoredItem = {
      class: 'logs',
      source: rp.source,
      recoveryPoint: rp,
      resources: out.resources,
      endpoint: `s3://${bucket}/${out.where ?? RESTORE_PREFIX}`,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationSeconds: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
    };
    // What was restored and verified, for the restore report.
    return Object.assign(item, { details: out.summary });
  },

  cleanup: (target, resources) => cleanupLogs(ports, target, resources),
});

/** The logs step's cleanup (also alone: shared/edge/restore-cleanups.ts). */
export async function cleanupLogs(
  ports: Pick<LogsRestorePorts, 'logs'>,
  target: IsolatedTarget,
  resources: CreatedResource[],
): Promise<void> {
  for (const r of resources) {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(r.id);
    if (r.type !== 'AWS::S3::Object' || !m) continue;
    const [, bucket, key] = m as unknown as [string, string, string];
    const store = ports.logs(target.clients);
    const keys = key.endsWith('/') ? (await store.list(bucket, key)).map((o) => o.key) : [key];
    for (const k of keys) {
      try {
        await store.remove(bucket, k);
      } catch (err) {
        if (!isAwsError(err, 'notFound')) throw err;
      }
    }
  }
}
