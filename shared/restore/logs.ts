// Restore step (logs class), shared by the validation and restore state
// machines. Recovery points are committed monthly bundles (a manifest
// exists), newest month first. `restore` copies a bundle and its manifest into
// the isolated account's bucket and reads the copy back against the manifest
// (validation); given a day range (options from/to) it restores every file of
// the range, loose or bundled, verified, under kura-restore/logs/.
import { Readable } from 'node:stream';
import { S3Sink } from '../aws/log-sinks.ts';
import { isMissing, S3LogStore } from '../aws/log-store.ts';
import { readBundle } from '../domain/logs/bundle-codec.ts';
import { BUNDLE_ROOT, parseBundleKey } from '../domain/logs/keys.ts';
import { compareWithManifest, parseManifest } from '../domain/logs/manifest.ts';
import { lastDayOfMonth } from '../domain/logs/months.ts';
import { InputError } from '../runtime/errors.ts';
import type { Deps } from '../runtime/lambda.ts';
import { executeLogRestore, planLogRestore } from '../usecases/log-restore.ts';
import type {
  CreatedResource,
  IsolatedTarget,
  RecoveryPointRef,
  RestoredItem,
  RestoreStep,
} from './types.ts';

export const RESTORE_PREFIX = 'kura-restore/logs/';

async function textOf(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

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
async function list(deps: Deps, opts: { source?: string; before?: Date } = {}): Promise<RecoveryPointRef[]> {
  const { policy, clients } = deps;
  const store = new S3LogStore(clients);
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

async function restoreRange(
  deps: Deps,
  target: IsolatedTarget,
  bucket: string,
  rp: RecoveryPointRef,
  from: string,
  to: string,
) {
  const [logClass, host] = (rp.source ?? '').split('/') as [string, string];
  const store = new S3LogStore(deps.clients);
  const plan = await planLogRestore(deps.policy, store, { logClass, host, from, to });
  const sink = new S3Sink(target.clients, bucket, RESTORE_PREFIX);
  const summary = await executeLogRestore(deps.policy, store, plan, sink);
  return { resources: [s3Resource(target, bucket, `${RESTORE_PREFIX}${logClass}/${host}/`)], summary };
}

async function restoreBundle(deps: Deps, target: IsolatedTarget, bucket: string, rp: RecoveryPointRef) {
  const vault = deps.policy.vault.bucket;
  const store = new S3LogStore(deps.clients);
  const there = new S3LogStore(target.clients);
  const manifestKey = String(rp.details?.manifestKey ?? rp.id.replace(/\.tar\.gz$/, '.manifest.json'));
  const manifestText = await textOf((await store.read(vault, manifestKey)).body);
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

export const logsRestoreStep: RestoreStep = {
  class: 'logs',
  list,

  async restore(deps, target, rp, opts = {}): Promise<RestoredItem> {
    const bucket = target.bucket;
    if (!bucket)
      throw new InputError([
        'logs restore: the isolated target has no bucket; expected target.bucket for restored logs',
      ]);
    const started = new Date();
    const from = typeof opts.from === 'string' ? opts.from : undefined;
    const to = typeof opts.to === 'string' ? opts.to : undefined;
    const out =
      from && to
        ? await restoreRange(deps, target, bucket, rp, from, to)
        : await restoreBundle(deps, target, bucket, rp);
    const finished = new Date();
    const item: RestoredItem = {
      class: 'logs',
      source: rp.source,
      recoveryPoint: rp,
      resources: out.resources,
      endpoint: `s3://${bucket}/${RESTORE_PREFIX}`,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationSeconds: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
    };
    // What was restored and verified, for the restore report.
    return Object.assign(item, { details: out.summary });
  },

  async cleanup(target, resources): Promise<void> {
    for (const r of resources) {
      const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(r.id);
      if (r.type !== 'AWS::S3::Object' || !m) continue;
      const [, bucket, key] = m as unknown as [string, string, string];
      const store = new S3LogStore(target.clients);
      const keys = key.endsWith('/') ? (await store.list(bucket, key)).map((o) => o.key) : [key];
      for (const k of keys) {
        try {
          await store.remove(bucket, k);
        } catch (err) {
          if (!isMissing(err)) throw err;
        }
      }
    }
  },
};
