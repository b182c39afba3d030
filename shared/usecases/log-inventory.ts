// Use case (logs): the log archive's part of the inventory: every monthly
// bundle (committed, or an interrupted attempt without a manifest) and, per
// class and host, the loose files not yet bundled.

import type { Deps } from '../aws/deps.ts';
import { tolerate } from '../runtime/aws-errors.ts';
import type { EstatePorts } from '../aws/report-ports.ts';
import { BUNDLE_ROOT, LOOSE_ROOT, parseBundleKey, parseLooseKey } from '../domain/logs/keys.ts';
import type { InventoryItem } from './inventory.ts';

export async function logInventory(
  { policy, clients }: Deps,
  { objects: store }: EstatePorts,
): Promise<InventoryItem[]> {
  if (!policy.logs) return [];
  const bucket = policy.vault.bucket;
  // No vault yet: nothing archived.
  const exists = await tolerate(['notFound'], () => store.list(bucket, BUNDLE_ROOT));
  if (!exists) return [];
  const out: InventoryItem[] = [];
  const manifests = new Map<string, Date>();
  for (const o of exists) {
    const ref = parseBundleKey(o.key);
    if (ref?.kind === 'manifest')
      manifests.set(o.key.replace(/\.manifest\.json$/, '.tar.gz'), o.lastModified);
  }
  for (const o of exists) {
    const ref = parseBundleKey(o.key);
    if (ref?.kind !== 'bundle') continue;
    const committed = manifests.get(o.key);
    out.push({
      class: 'logs',
      source: `${ref.logClass}/${ref.host}`,
      id: o.key,
      time: (committed ?? o.lastModified).toISOString(),
      region: clients.region,
      status: committed
        ? `bundle of ${ref.month}, ${o.size} bytes, ${o.storageClass ?? 'STANDARD'}`
        : 'uncommitted (no manifest: an interrupted run; the next log-bundle run redoes it)',
    });
  }
  const loose = new Map<string, { n: number; first: string; last: string; time: Date }>();
  for (const o of await store.list(bucket, LOOSE_ROOT)) {
    const ref = parseLooseKey(o.key);
    if (!ref) continue;
    const id = `${ref.logClass}/${ref.host}`;
    const cur = loose.get(id) ?? { n: 0, first: ref.day, last: ref.day, time: o.lastModified };
    cur.n++;
    if (ref.day < cur.first) cur.first = ref.day;
    if (ref.day > cur.last) cur.last = ref.day;
    if (o.lastModified > cur.time) cur.time = o.lastModified;
    loose.set(id, cur);
  }
  for (const [source, l] of loose) {
    out.push({
      class: 'logs',
      source,
      id: `${LOOSE_ROOT}${source}/ (${l.n} loose file(s), ${l.first}..${l.last})`,
      time: l.time.toISOString(),
      region: clients.region,
      status: 'loose (bundled after logs.keepMonths)',
    });
  }
  return out;
}
