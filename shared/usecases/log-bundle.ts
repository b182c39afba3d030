// Use case (logs, monthly): bundle every loose file of a month older than
// keepMonths into one tar.gz per (class, host, month), streamed from S3 to S3
// through a bounded multipart upload, with a manifest of every member.
//
// Crash safety, step by step, for one (class, host, month):
//   1. read the committed manifests of the month (part-001, part-002, …);
//   2. loose files a committed manifest already holds (same key and ETag) are
//      leftovers of a run that stopped while deleting: delete them, bundle
//      nothing twice;
//   3. the rest go into the next part number (deterministic key); an earlier
//      attempt without a manifest is simply overwritten (a new version);
//   4. the bundle is read back (that exact version) and every member and the
//      bundle's own SHA-256 compared with what was packed;
//   5. only then the manifest is written: the commit marker;
//   6. then the loose originals are removed (If-Match their ETag).
// A crash before 5 leaves the originals and an uncommitted bundle (redone
// next run); a crash after 5 leaves originals that step 2 removes. Nothing is
// lost, nothing bundled twice. Files of a bundled month that arrive late go
// into the next part. Multipart uploads of a group's bundles that a crashed
// run left incomplete are aborted when the group is next bundled (and by the
// vault's AbortIncompleteMultipartUpload lifecycle rule).
//
// The log-bundle state machine fans the groups out: a plan step lists the due
// (class, host, month) groups, and a Distributed Map bundles each group in its
// own invocation (`bundleLogGroup`). `logBundle` does all groups in one.

import { isAwsError } from '../aws/errors.ts';
import type { LogStorePort, StoredObject } from '../aws/log-store.ts';
import { BUNDLE_TAG } from '../domain/lifecycle/logs.ts';
import { readBundle } from '../domain/logs/bundle-codec.ts';
import {
  bundleKey,
  bundleMonthPrefix,
  type LooseRef,
  loosePrefix,
  manifestKey,
  parseBundleKey,
  parseLooseKey,
} from '../domain/logs/keys.ts';
import { compareWithManifest, type Manifest, parseManifest } from '../domain/logs/manifest.ts';
import { logSeals, sealOrCheck } from '../aws/seals.ts';
import { bundleCutoff, isBundleDue } from '../domain/logs/months.ts';
import { mapLimit } from '../domain/logs/pool.ts';
import { managedTags } from '../domain/tags.ts';
import type { Policy } from '../policy/schema.ts';
import { InputError } from '../runtime/errors.ts';
import {
  forEachTarget,
  type MetricPoint,
  newRunResult,
  type RunResult,
  type TargetOutcome,
} from '../runtime/result.ts';
import {
  BUNDLE_SLICE_DEFAULTS,
  type BundleSliceOptions,
  beginPending,
  continuePending,
  PartHasher,
  type PendingBundle,
  pendingStateKey,
  readPending,
  removePending,
  type SliceResult,
  sameFiles,
} from './log-bundle-upload.ts';

export const FUNCTION_NAME = 'log-bundle';

export interface LogBundlePorts {
  store: LogStorePort;
  /** Wall clock for the manifest's verifiedAt (tests pin it). */
  clock?: () => Date;
}

export interface Group {
  logClass: string;
  host: string;
  month: string;
  files: (LooseRef & { obj: StoredObject })[];
}

async function textOf(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/** The committed manifests of one (class, host, month), by part. */
export async function committedManifests(
  store: LogStorePort,
  bucket: string,
  logClass: string,
  host: string,
  month: string,
): Promise<Manifest[]> {
  const objects = await store.list(bucket, bundleMonthPrefix(logClass, host, month));
  const out: Manifest[] = [];
  for (const o of objects) {
    const ref = parseBundleKey(o.key);
    if (ref?.kind !== 'manifest') continue;
    const { body } = await store.read(bucket, o.key);
    const text = await textOf(body);
    // Trusted only as sealed (it decides which originals go); a run that stopped between
    // the manifest and its seal left it unsealed: sealed now.
    await sealOrCheck(logSeals(store, bucket), o.key, text);
    out.push(parseManifest(text, `s3://${bucket}/${o.key}`));
  }
  return out.sort((a, b) => a.part - b.part);
}

/** Loose files of the policy's classes in months before the cutoff, grouped per (class, host, month). */
export async function dueGroups(
  store: LogStorePort,
  policy: Policy,
  cutoff: string,
  warnings: string[],
): Promise<Group[]> {
  const groups = new Map<string, Group>();
  for (const logClass of Object.keys(policy.logs?.classes ?? {}).sort()) {
    for (const obj of await store.list(policy.vault.bucket, loosePrefix(logClass))) {
      const ref = parseLooseKey(obj.key);
      if (!ref) {
        warnings.push(
          `s3://${policy.vault.bucket}/${obj.key} is not a loose log key (logs/<class>/<host>/<yyyy-mm-dd>/<file>); left alone`,
        );
        continue;
      }
      const month = ref.day.slice(0, 7);
      if (!isBundleDue(month, cutoff)) continue;
      const id = `${logClass}/${ref.host}/${month}`;
      const g = groups.get(id) ?? { logClass, host: ref.host, month, files: [] };
      g.files.push({ ...ref, obj });
      groups.set(id, g);
    }
  }
  return [...groups.values()].sort((a, b) =>
    `${a.logClass}/${a.host}/${a.month}`.localeCompare(`${b.logClass}/${b.host}/${b.month}`),
  );
}

/** One child of the log-bundle state machine's Map. */
export interface GroupItem {
  logClass: string;
  host: string;
  month: string;
}

/** A multipart upload older than this belongs to no live invocation (Lambda runs 15 minutes at most). */
export const STALE_UPLOAD_MS = 30 * 60_000;

/** Aborts the group's multipart uploads that a crashed run left behind (their parts are billed until then). */
async function abortStaleUploads(
  store: LogStorePort,
  bucket: string,
  g: GroupItem,
  clock: () => Date,
  outcome: TargetOutcome,
  /** The upload a pending bundle continues: old, but not abandoned. */
  keep?: string,
): Promise<void> {
  const uploads = await store.incompleteUploads(bucket, bundleMonthPrefix(g.logClass, g.host, g.month));
  const stale = uploads.filter(
    (u) => u.uploadId !== keep && clock().getTime() - u.initiated.getTime() > STALE_UPLOAD_MS,
  );
  for (const u of stale) await store.abortUpload(bucket, u.key, u.uploadId);
  if (stale.length)
    outcome.actions.push(
      `aborted ${stale.length} incomplete multipart upload(s) an earlier run left: ${[...new Set(stale.map((u) => u.key))].join(', ')}`,
    );
}

/** True when a committed manifest's text names exactly this bundle (its key, checksum and version). */
function sameBundle(text: string, bundle: Manifest['bundle']): boolean {
  let committed: Partial<Manifest> | undefined;
  try {
    committed = JSON.parse(text) as Partial<Manifest>;
  } catch {
    return false; // not a manifest of this run, whatever it is
  }
  const b = committed?.bundle;
  return b?.key === bundle.key && b.sha256 === bundle.sha256 && b.versionId === bundle.versionId;
}

async function removeOriginals(
  store: LogStorePort,
  bucket: string,
  files: { key: string; etag: string }[],
  outcome: TargetOutcome,
): Promise<number> {
  const results = await mapLimit(files, 8, (f) => store.remove(bucket, f.key, { ifMatch: f.etag }));
  let removed = 0;
  for (const [i, r] of results.entries()) {
    if (r.ok) removed++;
    else if (isAwsError(r.error, 'preconditionFailed'))
      outcome.warnings.push(
        `${files[i]?.key} changed after it was bundled; kept (the next run bundles it again)`,
      );
    else throw r.error;
  }
  return removed;
}

/** How one invocation bundles a group (tests and benchmarks force small slices). */
export interface GroupOptions extends Partial<Omit<BundleSliceOptions, 'started'>> {}

/** Bundles a group, or the next slice of it; false when the group continues in another invocation. */
async function bundleGroup(
  store: LogStorePort,
  policy: Policy,
  g: Group,
  now: Date,
  clock: () => Date,
  outcome: TargetOutcome,
  metrics: MetricPoint[],
  options: GroupOptions = {},
): Promise<boolean> {
  const bucket = policy.vault.bucket;
  const committed = await committedManifests(store, bucket, g.logClass, g.host, g.month);
  const part = Math.max(0, ...committed.map((m) => m.part)) + 1;
  const key = bundleKey(g.logClass, g.host, g.month, part);
  const ref = { logClass: g.logClass, host: g.host, month: g.month, part, key };
  let state = await readPending(store, bucket, pendingStateKey(g.logClass, g.host, g.month, part));
  await abortStaleUploads(store, bucket, g, clock, outcome, state?.uploadId);

  // 2. leftovers of a committed part: their bundle was verified before its manifest was written.
  const inManifest = new Map<string, { etag?: string; manifest: Manifest }>();
  for (const m of committed)
    for (const mem of m.members) inManifest.set(mem.sourceKey, { etag: mem.sourceEtag, manifest: m });
  const leftovers = g.files.filter((f) => inManifest.get(f.key)?.etag === f.obj.etag);
  if (leftovers.length) {
    for (const m of new Set(leftovers.map((f) => inManifest.get(f.key)?.manifest as Manifest))) {
      const b = await store.head(bucket, m.bundle.key);
      if (!b || b.size !== m.bundle.size)
        throw new Error(`${m.bundle.key} is missing or not the size its manifest says; originals kept`);
    }
    const n = await removeOriginals(
      store,
      bucket,
      leftovers.map((f) => ({ key: f.key, etag: f.obj.etag })),
      outcome,
    );
    outcome.actions.push(
      `removed ${n} original(s) already in committed bundle(s) (an earlier run stopped before removing them)`,
    );
  }

  const pending = g.files
    .filter((f) => !leftovers.includes(f))
    .sort((a, b) => a.member.localeCompare(b.member));
  if (pending.length === 0) {
    if (!leftovers.length) outcome.status = 'skipped';
    return true;
  }
  const tags = managedTags({
    backupClass: 'logs',
    source: `${g.logClass}/${g.host}`,
    time: now,
    createdBy: FUNCTION_NAME,
  });
  const opts: BundleSliceOptions = {
    ...BUNDLE_SLICE_DEFAULTS,
    clock: () => clock().getTime(),
    ...options,
    started: (options.clock ?? (() => clock().getTime()))(),
  };
  // Only the bundle carries kura:object=bundle: the lifecycle moves it to colder classes, never its manifest.
  const upload = { tags: { ...tags, [BUNDLE_TAG.Key]: BUNDLE_TAG.Value }, contentType: 'application/gzip' };
  const restart = async (why: string) => {
    if (state) {
      await store.abortUpload(bucket, state.key, state.uploadId);
      await removePending(store, bucket, ref);
      outcome.actions.push(`${key}: ${why}; started again`);
    }
    state = await beginPending(store, bucket, ref, pending, opts, upload);
  };
  if (!state) await restart('');
  else if (state.key !== key || !sameFiles(state, pending))
    await restart("the month's loose files changed since this bundle began");
  else
    outcome.actions.push(
      `continued ${key} from its multipart upload: ${state.parts.length} part(s) and ${state.membersDone} of ${state.files.length} file(s) done`,
    );

  // 3. pack and upload, segment by segment, until done or out of budget.
  let slice: SliceResult;
  try {
    slice = await continuePending(store, bucket, ref, state as PendingBundle, opts);
  } catch (err) {
    // The upload is gone (completed by a run that crashed before its manifest, or aborted):
    // this bundle starts again under a new upload; the originals were never touched.
    if (!isAwsError(err, 'notFound')) throw err;
    await restart('its multipart upload is gone');
    slice = await continuePending(store, bucket, ref, state as unknown as PendingBundle, opts);
  }
  const done = slice.state;
  if (!slice.done) {
    outcome.complete = false;
    outcome.actions.push(
      `${key}: budget reached after ${done.membersDone} of ${done.files.length} file(s), ${done.parts.length} part(s) uploaded; the next invocation continues`,
    );
    return false;
  }

  // 4. read back exactly that version: every part's SHA-256 as sent, every member as packed.
  const back = await store.read(bucket, key, { versionId: slice.versionId });
  const hasher = new PartHasher(done.partSize);
  const read = await readBundle(
    (async function* () {
      for await (const c of back.body) {
        hasher.update(c);
        yield c;
      }
    })(),
  );
  const readParts = hasher.finish();
  const problems = compareWithManifest(done.members, read.members);
  if (read.bundle.size !== slice.size)
    problems.push(`bundle size ${read.bundle.size}, parts sent ${slice.size}`);
  if (readParts.length !== done.parts.length || done.parts.some((p, i) => readParts[i] !== p.sha256))
    problems.push(`the bundle read back is not the ${done.parts.length} part(s) sent (SHA-256 per part)`);
  if (problems.length) {
    await removePending(store, bucket, ref);
    throw new Error(`${key} failed verification, originals kept: ${problems.slice(0, 3).join('; ')}`);
  }

  // 5. commit.
  const manifest: Manifest = {
    kind: 'kura-log-bundle',
    version: 1,
    logClass: g.logClass,
    host: g.host,
    month: g.month,
    part,
    bundle: {
      key,
      size: read.bundle.size,
      sha256: read.bundle.sha256,
      ...(slice.versionId ? { versionId: slice.versionId } : {}),
    },
    createdAt: now.toISOString(),
    createdBy: FUNCTION_NAME,
    verifiedAt: clock().toISOString(),
    members: done.files.map((f, i) => {
      const versionId = done.versions[f.key];
      return {
        name: f.member,
        size: done.members[i]?.size ?? f.size,
        sha256: done.members[i]?.sha256 ?? '',
        sourceKey: f.key,
        sourceEtag: f.etag,
        ...(versionId ? { sourceVersionId: versionId } : {}),
      };
    }),
  };
  // The commit: written once. A second run of the same month (a duplicate delivery) that
  // committed this part first is never overwritten; this one stops before deleting anything.
  const mKey = manifestKey(g.logClass, g.host, g.month, part);
  const mText = JSON.stringify(manifest, null, 1);
  try {
    const written = await store.putText(bucket, mKey, mText, {
      tags,
      contentType: 'application/json',
      ifNoneMatch: '*',
    });
    await logSeals(store, bucket).seal(mKey, mText, written.versionId);
  } catch (err) {
    if (!isAwsError(err, 'preconditionFailed')) throw err;
    // This run's own commit when its answer was lost and the SDK retried the PUT: the
    // manifest there names this run's bundle version. Anyone else's stops this run.
    const there = await textOf((await store.read(bucket, mKey)).body);
    if (!sameBundle(there, manifest.bundle))
      throw new Error(
        `${mKey} was committed by another run meanwhile: this run stopped before deleting any original; the next run finishes the month`,
      );
    await sealOrCheck(logSeals(store, bucket), mKey, there);
  }
  await removePending(store, bucket, ref);

  // 6. remove the originals.
  const removed = await removeOriginals(
    store,
    bucket,
    done.files.map((f) => ({ key: f.key, etag: f.etag })),
    outcome,
  );
  const inBytes = done.files.reduce((n, f) => n + f.size, 0);
  outcome.bundle = key;
  outcome.members = done.files.length;
  outcome.bytesIn = inBytes;
  outcome.bytesOut = read.bundle.size;
  outcome.complete = true;
  if (done.invocations > 1) outcome.invocations = done.invocations;
  outcome.actions.push(
    `bundled ${done.files.length} file(s), ${inBytes} bytes into ${key} (${read.bundle.size} bytes${done.invocations > 1 ? `, over ${done.invocations} invocations` : ''}), verified against its manifest; removed ${removed} original(s)`,
  );
  metrics.push(
    { name: 'LogBundlesWritten', value: 1, unit: 'Count', dimensions: { class: g.logClass } },
    { name: 'LogBytesBundled', value: inBytes, unit: 'Bytes', dimensions: { class: g.logClass } },
  );
  return true;
}

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
      await bundleGroup(ports.store, policy, g, now, clock, outcome, result.metrics, {
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
      complete = await bundleGroup(ports.store, policy, g, now, clock, outcome, result.metrics, options);
    },
  );
  result.ok = result.targets.every((t) => t.status !== 'failed');
  // A failed group is not continued: it fails the Map child (after its retries).
  return { ...result, complete: complete || !result.ok };
}
