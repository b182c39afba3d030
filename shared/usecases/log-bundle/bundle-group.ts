// Use case (logs, monthly bundles): one group bundled, step by step (see
// log-bundle.ts): pack, read back and compare, commit the manifest, then
// remove the originals. Resumes a pending bundle across invocations.
import { isAwsError } from '../../runtime/aws-errors.ts';
import { BUNDLE_TAG } from '../../domain/lifecycle/logs.ts';
import { readBundle } from '../../domain/logs/bundle-codec.ts';
import { bundleKey, manifestKey } from '../../domain/logs/keys.ts';
import { compareWithManifest, type Manifest } from '../../domain/logs/manifest.ts';
import { managedTags } from '../../domain/tags.ts';
import type { Policy } from '../../policy/schema.ts';
import type { MetricPoint, TargetOutcome } from '../../runtime/result.ts';
import {
  beginPending,
  BUNDLE_SLICE_DEFAULTS,
  type BundleSliceOptions,
  continuePending,
  PartHasher,
  type PendingBundle,
  pendingStateKey,
  readPending,
  removePending,
  sameFiles,
  type SliceResult,
} from '../log-bundle-upload.ts';
import { committedManifests, FUNCTION_NAME, type Group, type LogBundlePorts, sealOrCheck, textOf } from './groups.ts';
import { abortStaleUploads, removeOriginals, sameBundle } from './housekeeping.ts';

export interface GroupOptions extends Partial<Omit<BundleSliceOptions, 'started'>> {}

/** Bundles a group, or the next slice of it; false when the group continues in another invocation. */
export async function bundleGroup(
  ports: Pick<LogBundlePorts, 'store' | 'seals'>,
  policy: Policy,
  g: Group,
  now: Date,
  clock: () => Date,
  outcome: TargetOutcome,
  metrics: MetricPoint[],
  options: GroupOptions = {},
): Promise<boolean> {
  const { store, seals } = ports;
  const bucket = policy.vault.bucket;
  const committed = await committedManifests(ports, bucket, g.logClass, g.host, g.month);
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
    await seals.seal(mKey, mText, written.versionId);
  } catch (err) {
    if (!isAwsError(err, 'preconditionFailed')) throw err;
    // This run's own commit when its answer was lost and the SDK retried the PUT: the
    // manifest there names this run's bundle version. Anyone else's stops this run.
    const there = await textOf((await store.read(bucket, mKey)).body);
    if (!sameBundle(there, manifest.bundle))
      throw new Error(
        `${mKey} was committed by another run meanwhile: this run stopped before deleting any original; the next run finishes the month`,
      );
    await sealOrCheck(seals, mKey, there);
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
