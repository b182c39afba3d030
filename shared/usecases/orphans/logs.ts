// Orphan finder (logs class): what an interrupted move or bundle leaves:
// landing files already copied to the vault but not removed (the next
// log-archive run verifies and removes them), bundles uploaded without their
// manifest (uncommitted: the next log-bundle run rewrites them), and loose
// files that a committed bundle already holds (the next run removes them).

import type { Deps } from '../../aws/deps.ts';
import { tolerate } from '../../runtime/aws-errors.ts';
import type { StoredObject } from '../../aws/log-store.ts';
import type { EstatePorts } from '../../aws/report-ports.ts';
import {
  BUNDLE_ROOT,
  dayOfFile,
  LOOSE_ROOT,
  looseKey,
  manifestKey,
  parseBundleKey,
  parseLandingKey,
  splitS3Url,
} from '../../domain/logs/keys.ts';
import { parseManifest } from '../../domain/logs/manifest.ts';
import { localDate } from '../../policy/calendar.ts';
import type { Orphan } from '../orphans.ts';

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

export async function logOrphans({ policy }: Deps, { objects: store }: EstatePorts): Promise<Orphan[]> {
  const logs = policy.logs;
  if (!logs) return [];
  const vault = policy.vault.bucket;
  const out: Orphan[] = [];
  const orphan = (kind: string, bucket: string, o: StoredObject, reason: string) =>
    out.push({
      class: 'logs',
      kind,
      id: `s3://${bucket}/${o.key}`,
      region: policy.region,
      reason,
      time: o.lastModified.toISOString(),
    });

  // Bundles without a manifest, and loose files a committed manifest holds.
  const bundleObjects = await tolerate(['notFound'], () => store.list(vault, BUNDLE_ROOT), []);
  const keys = new Set(bundleObjects.map((o) => o.key));
  const bundled = new Map<string, string | undefined>();
  for (const o of bundleObjects) {
    const ref = parseBundleKey(o.key);
    if (ref?.kind === 'bundle' && !keys.has(manifestKey(ref.logClass, ref.host, ref.month, ref.part)))
      orphan(
        'bundle',
        vault,
        o,
        'bundle uploaded but not committed (no manifest): its originals are still loose; the next log-bundle run bundles them again',
      );
    if (ref?.kind === 'manifest') {
      const m = parseManifest(await text((await store.read(vault, o.key)).body), `s3://${vault}/${o.key}`);
      for (const mem of m.members) bundled.set(mem.sourceKey, mem.sourceEtag);
    }
  }
  for (const o of await tolerate(['notFound'], () => store.list(vault, LOOSE_ROOT), [])) {
    if (bundled.has(o.key) && bundled.get(o.key) === o.etag)
      orphan(
        'object',
        vault,
        o,
        'already in a committed bundle but not removed (a log-bundle run stopped while deleting): the next run removes it',
      );
  }

  // Landing files whose vault copy is already there.
  const landing = splitS3Url(logs.landing);
  const classes = Object.keys(logs.classes);
  for (const o of await tolerate(['notFound'], () => store.list(landing.bucket, landing.prefix), [])) {
    const parsed = parseLandingKey(o.key, landing.prefix, classes);
    if (!parsed.ok) continue;
    const f = parsed.file;
    const day = dayOfFile(f.file, localDate(o.lastModified, policy.timezone));
    const copy = await store.head(vault, looseKey(f.logClass, f.host, day, f.file));
    if (!copy) continue;
    const src = await store.head(landing.bucket, o.key);
    const same = copy.sha256 && src?.sha256 ? copy.sha256 === src.sha256 : copy.etag === o.etag;
    if (copy.size === o.size && same)
      orphan(
        'object',
        landing.bucket,
        o,
        `already copied to s3://${vault}/${copy.key} but not removed from landing (a log-archive run stopped between copy and delete): the next run verifies and removes it`,
      );
  }
  return out;
}
