// Use case (logs, monthly bundles): the ports, and the (class, host, month)
// groups that are due, with the manifests already committed for each.
import type { LogStorePort, StoredObject } from '../../aws/log-store.ts';
import type { SealPort } from '../../aws/seals.ts';
import type { SealRecord } from '../../domain/seals.ts';
import {
  bundleMonthPrefix,
  loosePrefix,
  type LooseRef,
  parseBundleKey,
  parseLooseKey,
} from '../../domain/logs/keys.ts';
import { type Manifest, parseManifest } from '../../domain/logs/manifest.ts';
import { isBundleDue } from '../../domain/logs/months.ts';
import type { Policy } from '../../policy/schema.ts';

export const FUNCTION_NAME = 'log-bundle';

export interface LogBundlePorts {
  store: LogStorePort;
  /** The seals of the vault's records (manifests), through the same store (sealedLogStore). */
  seals: SealPort;
  /** Wall clock for the manifest's verifiedAt (tests pin it). */
  clock?: () => Date;
}

export interface Group {
  logClass: string;
  host: string;
  month: string;
  files: (LooseRef & { obj: StoredObject })[];
}

/**
 * For a writer reading back a record of its own that a run may have written
 * and stopped before sealing (the seal is the second write): seals it when it
 * has no seal yet, and checks it otherwise.
 */
export async function sealOrCheck(seals: SealPort, key: string, body: Uint8Array | string): Promise<SealRecord> {
  return (await seals.current(key)) ? seals.check(key, body) : seals.seal(key, body);
}

export async function textOf(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/** The committed manifests of one (class, host, month), by part. */
export async function committedManifests(
  { store, seals }: Pick<LogBundlePorts, 'store' | 'seals'>,
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
    await sealOrCheck(seals, o.key, text);
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
