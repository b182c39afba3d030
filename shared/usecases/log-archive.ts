// Use case (logs, daily): move each rotated file from the landing bucket into
// the vault under logs/<class>/<host>/<yyyy-mm-dd>/<file>. A move is a
// server-side copy that asks S3 for the copy's SHA-256, compared with the
// SHA-256 of the landing object (S3's own when the host uploaded with
// --checksum-algorithm SHA256, else computed by reading it); only when they
// match is the landing copy deleted, and only if it is still the object that
// was copied (If-Match). Malformed keys and unknown classes are reported and
// left in place. A re-run finds its earlier copies and only finishes them.
import { createHash } from 'node:crypto';
import { isAwsError } from '../runtime/aws-errors.ts';
import type { LogStorePort, StoredObject } from '../aws/log-store.ts';
import { dayOfFile, type LandingFile, looseKey, parseLandingKey, splitS3Url } from '../domain/logs/keys.ts';
import { mapLimit } from '../domain/logs/pool.ts';
import { managedTags } from '../domain/tags.ts';
import { localDate } from '../policy/calendar.ts';
import type { Policy } from '../policy/schema.ts';
import { PrerequisiteError } from '../runtime/errors.ts';
import { errorInfo, forEachTarget, newRunResult, type RunResult } from '../runtime/result.ts';

export const FUNCTION_NAME = 'log-archive';
/** Files moved at a time (each is a copy, a head and possibly a read). */
const CONCURRENCY = 8;
/** CopyObject's single-request limit. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;

export interface LogArchivePorts {
  /** The vault, as kura's own role: checks an earlier copy, hides a wrong one. */
  store: LogStorePort;
  /**
   * The landing (list, read, remove) and the copy into the vault: with sources,
   * the landing's owning account's kura-source role (it may only add under
   * logs/ in the vault); absent, `store`.
   */
  landing?: LogStorePort;
}

export interface Rejected {
  key: string;
  problem: string;
}

type Move = { status: 'moved' | 'finished' | 'left'; bytes: number; note?: string };

async function landingSha256(store: LogStorePort, bucket: string, obj: StoredObject): Promise<string> {
  const head = await store.head(bucket, obj.key);
  if (head?.sha256 && head.etag === obj.etag) return head.sha256;
  const { body } = await store.read(bucket, obj.key, { etag: obj.etag });
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk);
  return hash.digest('hex');
}

async function moveOne(
  { store, landing = store }: LogArchivePorts,
  policy: Policy,
  landingBucket: string,
  f: LandingFile,
  obj: StoredObject,
  now: Date,
): Promise<Move & { vaultKey: string }> {
  const vault = policy.vault.bucket;
  const day = dayOfFile(f.file, localDate(obj.lastModified, policy.timezone));
  const vaultKey = looseKey(f.logClass, f.host, day, f.file);
  if (obj.size > MAX_COPY_BYTES) {
    return {
      status: 'left',
      bytes: 0,
      vaultKey,
      note: `${obj.size} bytes is more than a single copy allows (5 GiB); split the log (logrotate maxsize)`,
    };
  }
  const sourceSha = await landingSha256(landing, landingBucket, obj);
  let copy = await store.head(vault, vaultKey);
  let finished = false;
  if (copy) {
    if (copy.sha256 !== sourceSha) {
      // Never overwrite: a different file under the same name is the operator's call.
      return {
        status: 'left',
        bytes: 0,
        vaultKey,
        note: `the vault already holds a different ${vaultKey} (SHA-256 ${copy.sha256 ?? 'unknown'}, landing ${sourceSha}); rename the file on the host (logrotate dateext)`,
      };
    }
    finished = true; // copied by an earlier run that stopped before deleting the landing copy
  } else {
    const tags = managedTags({
      backupClass: 'logs',
      source: `${f.logClass}/${f.host}`,
      time: now,
      createdBy: FUNCTION_NAME,
    });
    const made = await landing.copy(
      { bucket: landingBucket, key: obj.key, etag: obj.etag },
      { bucket: vault, key: vaultKey },
      tags,
    );
    // Checked as kura's own role: the writer (a source role) cannot read the vault.
    const written = await store.head(vault, vaultKey);
    if (!written) throw new Error(`s3://${vault}/${vaultKey}: not found right after the copy`);
    copy = {
      ...written,
      sha256: made.sha256 ?? written.sha256,
      versionId: made.versionId ?? written.versionId,
    };
    if (copy.sha256 !== sourceSha || copy.size !== obj.size) {
      // Our own copy is wrong: hide it again so the next run copies afresh; the landing copy stays.
      await store.remove(vault, vaultKey);
      throw new Error(
        `${obj.key}: the vault copy's SHA-256 ${copy.sha256 ?? '(none)'} does not match the landing object's ${sourceSha}; landing copy kept`,
      );
    }
  }
  try {
    await landing.remove(landingBucket, obj.key, { ifMatch: obj.etag });
  } catch (err) {
    if (!isAwsError(err, 'preconditionFailed')) throw err;
    return {
      status: 'left',
      bytes: obj.size,
      vaultKey,
      note: 'the landing object changed after it was copied; kept for the next run',
    };
  }
  return { status: finished ? 'finished' : 'moved', bytes: obj.size, vaultKey };
}

export async function logArchive(now: Date, policy: Policy, ports: LogArchivePorts): Promise<RunResult> {
  const result = newRunResult(FUNCTION_NAME, now);
  const logs = policy.logs;
  if (!logs) {
    result.warnings.push('the policy has no logs section: nothing to do');
    return result;
  }
  const landing = splitS3Url(logs.landing);
  const classes = Object.keys(logs.classes);
  const objects = await (ports.landing ?? ports.store)
    .list(landing.bucket, landing.prefix)
    .catch((err: unknown) => {
      if (!isAwsError(err, 'notFound')) throw err;
      throw new PrerequisiteError(
        `the landing bucket ${landing.bucket} (logs.landing ${logs.landing}) does not exist; create it and let the hosts upload to it`,
      );
    });

  const rejected: Rejected[] = [];
  const groups = new Map<string, { file: LandingFile; obj: StoredObject }[]>();
  let folderMarkers = 0;
  for (const obj of objects) {
    const parsed = parseLandingKey(obj.key, landing.prefix, classes);
    if (!parsed.ok) {
      if (parsed.kind === 'folder-marker') folderMarkers++;
      else rejected.push({ key: obj.key, problem: parsed.problem });
      continue;
    }
    const id = `${parsed.file.logClass}/${parsed.file.host}`;
    groups.set(id, [...(groups.get(id) ?? []), { file: parsed.file, obj }]);
  }
  for (const r of rejected)
    result.warnings.push(`left in landing: s3://${landing.bucket}/${r.key}: ${r.problem}`);
  result.rejected = rejected;
  result.folderMarkersIgnored = folderMarkers;

  let moved = 0;
  let bytes = 0;
  let failedFiles = 0;
  let leftFiles = 0;
  result.targets = await forEachTarget(
    [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)),
    ([id]) => id,
    async ([, files], outcome) => {
      const results = await mapLimit(files, CONCURRENCY, ({ file, obj }) =>
        moveOne(ports, policy, landing.bucket, file, obj, now),
      );
      const counts = { moved: 0, finished: 0, left: 0, failed: 0 };
      const failures: string[] = [];
      for (const [i, r] of results.entries()) {
        const key = files[i]?.obj.key;
        if (!r.ok) {
          counts.failed++;
          failures.push(`${key}: ${errorInfo(r.error).message}`);
          continue;
        }
        counts[r.value.status]++;
        if (r.value.status !== 'left') {
          moved++;
          bytes += r.value.bytes;
        } else outcome.warnings.push(`left in landing: ${key}: ${r.value.note}`);
      }
      outcome.files = files.length;
      outcome.counts = counts;
      outcome.actions.push(
        `moved ${counts.moved} file(s) into the vault (checksums verified)` +
          (counts.finished ? `; finished ${counts.finished} move(s) an earlier run had copied` : ''),
      );
      leftFiles += counts.left;
      failedFiles += counts.failed;
      if (failures.length) {
        outcome.failures = failures;
        throw new Error(
          `${failures.length} of ${files.length} file(s) failed and stay in landing: ${failures.slice(0, 3).join('; ')}${failures.length > 3 ? ' …' : ''}`,
        );
      }
    },
  );
  result.moved = moved;
  result.metrics.push(
    { name: 'LogFilesArchived', value: moved, unit: 'Count' },
    { name: 'LogBytesArchived', value: bytes, unit: 'Bytes' },
    // Alarm on these: files the archive will not take until someone acts.
    { name: 'LogFilesRejected', value: rejected.length + leftFiles, unit: 'Count' },
    { name: 'LogFilesFailed', value: failedFiles, unit: 'Count' },
  );
  result.ok = result.targets.every((t) => t.status !== 'failed');
  return result;
}
