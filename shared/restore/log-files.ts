// Restore (logs, restore): bring back the logs of one (class, host) for a
// day range, from loose files and from committed bundles alike, to a sink (a
// local folder or an S3 prefix). Every file written is checked against the
// SHA-256 S3 or the bundle's manifest holds for it; a mismatch fails the
// restore. Bundles in an archive storage class are asked back from S3 and
// reported as pending. Inputs are checked before anything is read.

import type { LogSink } from '../aws/log-sinks.ts';
import type { LogStorePort } from '../aws/log-store.ts';
import { readBundle } from '../domain/logs/bundle-codec.ts';
import {
  bundleMonthPrefix,
  isValidDay,
  loosePrefix,
  memberDay,
  parseBundleKey,
  parseLooseKey,
} from '../domain/logs/keys.ts';
import type { SealPort } from '../aws/seals.ts';
import { type Manifest, type ManifestMember, parseManifest } from '../domain/logs/manifest.ts';
import { daysBetween, monthsBetween } from '../domain/logs/months.ts';
import type { Policy } from '../policy/schema.ts';
import { InputError, NotReadyError } from '../runtime/errors.ts';

export interface LogRestoreRequest {
  logClass: string;
  host: string;
  from: string;
  to: string;
}

export interface RestorePlan {
  request: LogRestoreRequest;
  loose: { key: string; member: string; size: number; etag: string }[];
  bundles: {
    key: string;
    manifest: Manifest;
    wanted: ManifestMember[];
    storageClass: string;
    readable: boolean;
  }[];
  /** Members found both loose and in a bundle (same SHA-256): restored once, from the loose copy. */
  duplicates: string[];
}

/**
 * Hours a Standard-tier restore takes at most, by storage class (S3 user
 * guide, "Archive retrieval options"): the time the report promises the data by.
 */
export const ARCHIVE_RESTORE_HOURS: Record<string, number> = { GLACIER: 5, DEEP_ARCHIVE: 12 };

/** How often a waiting restore looks again: Step Functions waits in between, at no cost. */
export const ARCHIVE_POLL_SECONDS = 3600;

export interface RestoreSummary {
  class: string;
  host: string;
  from: string;
  to: string;
  destination: string;
  files: number;
  bytes: number;
  fromLoose: number;
  fromBundles: number;
  bundlesRead: string[];
  /** Bundles in an archive class: a restore request was made; re-run when it completes. */
  pendingArchived: string[];
  /** When the bundles asked back from an archive class are expected to be readable (ISO). */
  readyBy?: string;
  /** Days of the range with no file at all (a host down, or nothing logged). */
  daysWithoutLogs: string[];
  verified: true;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
}

const ARCHIVED = new Set(['GLACIER', 'DEEP_ARCHIVE']);

export function validateRestoreRequest(policy: Policy, r: LogRestoreRequest): void {
  const problems: string[] = [];
  const classes = Object.keys(policy.logs?.classes ?? {});
  if (!classes.includes(r.logClass))
    problems.push(
      `--class: found "${r.logClass}"; expected one of ${classes.join(', ') || '(no logs section in the policy)'}`,
    );
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(r.host))
    problems.push(
      `--host: found "${r.host}"; expected a host name as the hosts upload it (letters, digits, . _ -)`,
    );
  if (!isValidDay(r.from)) problems.push(`--from: found "${r.from}"; expected a date yyyy-mm-dd`);
  if (!isValidDay(r.to)) problems.push(`--to: found "${r.to}"; expected a date yyyy-mm-dd`);
  if (isValidDay(r.from) && isValidDay(r.to) && r.from > r.to)
    problems.push(`--from ${r.from} is after --to ${r.to}; expected from <= to`);
  if (problems.length) throw new InputError(problems);
}

/** The vault's logs as a restore reads them: the store, and the seals its records are held against. */
export interface SealedLogs {
  store: LogStorePort;
  seals: Pick<SealPort, 'check'>;
}

/** A sealed record (a bundle's manifest) read as text, checked against its seal before it is returned. */
export async function readSealed(vault: SealedLogs, bucket: string, key: string): Promise<string> {
  const read = await vault.store.read(bucket, key);
  const chunks: Uint8Array[] = [];
  for await (const c of read.body) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  await vault.seals.check(key, text, read.versionId);
  return text;
}

/** What a day range needs, read from the vault (`vault.store`; its manifests checked against their seals). */
export async function planLogRestore(
  policy: Policy,
  vault: SealedLogs,
  r: LogRestoreRequest,
): Promise<RestorePlan> {
  validateRestoreRequest(policy, r);
  const { store } = vault;
  const bucket = policy.vault.bucket;
  const inRange = (day: string) => day >= r.from && day <= r.to;
  const plan: RestorePlan = { request: r, loose: [], bundles: [], duplicates: [] };
  const looseByMember = new Map<string, RestorePlan['loose'][number]>();
  for (const month of monthsBetween(r.from, r.to)) {
    for (const o of await store.list(bucket, loosePrefix(r.logClass, r.host, `${month}-`))) {
      const ref = parseLooseKey(o.key);
      if (!ref || !inRange(ref.day)) continue;
      const item = { key: o.key, member: ref.member, size: o.size, etag: o.etag };
      plan.loose.push(item);
      looseByMember.set(ref.member, item);
    }
    const objects = await store.list(bucket, bundleMonthPrefix(r.logClass, r.host, month));
    for (const o of objects) {
      const ref = parseBundleKey(o.key);
      if (ref?.kind !== 'manifest') continue; // a bundle without a manifest is not committed
      const manifest = parseManifest(await readSealed(vault, bucket, o.key), `s3://${bucket}/${o.key}`);
      const wanted = manifest.members.filter((m) => inRange(memberDay(m.name)) && !looseByMember.has(m.name));
      plan.duplicates.push(
        ...manifest.members
          .filter((m) => inRange(memberDay(m.name)) && looseByMember.has(m.name))
          .map((m) => m.name),
      );
      if (wanted.length === 0) continue;
      // The version the manifest names is the one read, so its storage class is the one that counts.
      const info = await store.head(bucket, manifest.bundle.key, { versionId: manifest.bundle.versionId });
      if (!info) throw new Error(`s3://${bucket}/${manifest.bundle.key}: named by ${o.key} but missing`);
      const storageClass = info.storageClass ?? 'STANDARD';
      const readable = !ARCHIVED.has(storageClass) || /ongoing-request="false"/.test(info.restore ?? '');
      plan.bundles.push({ key: manifest.bundle.key, manifest, wanted, storageClass, readable });
    }
  }
  return plan;
}

export async function executeLogRestore(
  policy: Policy,
  store: LogStorePort,
  plan: RestorePlan,
  sink: LogSink,
  opts: { requestArchiveRestore?: boolean; clock?: () => Date } = {},
): Promise<RestoreSummary> {
  const clock = opts.clock ?? (() => new Date());
  const started = clock();
  const bucket = policy.vault.bucket;
  const { logClass, host } = plan.request;
  const path = (member: string) => `${logClass}/${host}/${member}`;
  const written = new Set<string>();
  let bytes = 0;

  for (const f of plan.loose) {
    const obj = await store.read(bucket, f.key, { etag: f.etag });
    const out = await sink.write(path(f.member), obj.body, { size: f.size, sha256: obj.sha256 });
    written.add(f.member);
    bytes += out.size;
  }
  let fromBundles = 0;
  const bundlesRead: string[] = [];
  const pendingArchived: string[] = [];
  let readyBy: number | undefined;
  for (const b of plan.bundles) {
    if (!b.readable) {
      if (opts.requestArchiveRestore) {
        const asked = await store.requestRestore(bucket, b.key, 7, {
          versionId: b.manifest.bundle.versionId,
        });
        // Asked now: ready within the class's retrieval time. Asked earlier: the caller kept that time.
        if (asked === 'requested') {
          const at = started.getTime() + (ARCHIVE_RESTORE_HOURS[b.storageClass] ?? 12) * 3_600_000;
          readyBy = Math.max(readyBy ?? 0, at);
        }
      }
      pendingArchived.push(`${b.key} (${b.storageClass})`);
      continue;
    }
    const wanted = new Map(b.wanted.map((m) => [m.name, m]));
    const obj = await store.read(bucket, b.key, { versionId: b.manifest.bundle.versionId });
    const read = await readBundle(obj.body, async (member, body) => {
      const m = wanted.get(member.name);
      if (!m) return;
      const out = await sink.write(path(m.name), body, { size: m.size, sha256: m.sha256 });
      written.add(m.name);
      fromBundles++;
      bytes += out.size;
    });
    if (read.bundle.sha256 !== b.manifest.bundle.sha256) {
      throw new Error(
        `${b.key}: SHA-256 ${read.bundle.sha256}, its manifest says ${b.manifest.bundle.sha256}`,
      );
    }
    const missing = [...wanted.keys()].filter((n) => !written.has(n));
    if (missing.length)
      throw new Error(
        `${b.key}: members named by the manifest are missing: ${missing.slice(0, 3).join(', ')}`,
      );
    bundlesRead.push(b.key);
  }
  const finished = clock();
  const days = new Set([...written].map(memberDay));
  const summary: RestoreSummary = {
    class: logClass,
    host,
    from: plan.request.from,
    to: plan.request.to,
    destination: sink.describe(),
    files: written.size,
    bytes,
    fromLoose: plan.loose.length,
    fromBundles,
    bundlesRead,
    pendingArchived,
    daysWithoutLogs: daysBetween(plan.request.from, plan.request.to).filter((d) => !days.has(d)),
    verified: true,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
    ...(readyBy ? { readyBy: new Date(readyBy).toISOString() } : {}),
  };
  if (pendingArchived.length) {
    throw new NotReadyError(
      `${summary.files} file(s) restored to ${summary.destination}; ${pendingArchived.length} bundle(s) are in an archive storage class: ${pendingArchived.join(', ')}. ` +
        (opts.requestArchiveRestore
          ? `A restore was requested from S3 (Standard tier)${summary.readyBy ? `: the data is ready by about ${summary.readyBy}` : ' and is under way'}; the restore continues then.`
          : 'Re-run with archive restore allowed.'),
      {
        waitSeconds: ARCHIVE_POLL_SECONDS,
        ...(summary.readyBy ? { readyBy: summary.readyBy } : {}),
      },
    );
  }
  return summary;
}
