// Use case (logs, monthly bundles): what surrounds a bundle's commit: stale
// multipart uploads aborted, a manifest compared with what was packed, and
// the loose originals removed (If-Match their ETag) once it is committed.
import { isAwsError } from '../../runtime/aws-errors.ts';
import type { LogStorePort } from '../../aws/log-store.ts';
import { bundleMonthPrefix } from '../../domain/logs/keys.ts';
import type { Manifest } from '../../domain/logs/manifest.ts';
import { mapLimit } from '../../domain/logs/pool.ts';
import type { TargetOutcome } from '../../runtime/result.ts';
import type { GroupItem } from './groups.ts';

export const STALE_UPLOAD_MS = 30 * 60_000;

/** Aborts the group's multipart uploads that a crashed run left behind (their parts are billed until then). */
export async function abortStaleUploads(
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
export function sameBundle(text: string, bundle: Manifest['bundle']): boolean {
  let committed: Partial<Manifest> | undefined;
  try {
    committed = JSON.parse(text) as Partial<Manifest>;
  } catch {
    return false; // not a manifest of this run, whatever it is
  }
  const b = committed?.bundle;
  return b?.key === bundle.key && b.sha256 === bundle.sha256 && b.versionId === bundle.versionId;
}

export async function removeOriginals(
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
