// Use case (yearly rehearsal), inside the restore's plan: a rehearsal request
// names no items; it restores every class the policy backs up, each source's
// recovery point closest before the one time `at` (as the monthly validation
// picks per class and source). It also records each source database's
// LatestRestorableTime now, at the run, for the PITR RPO of the rehearsal report.
import type { Deps } from '../../aws/deps.ts';
import { itemKey, type RequestedItem } from '../../restore/request.ts';
import { type Origin, originKey, originOf } from '../../restore/source-account.ts';
import type { RestoreClass } from '../../restore/types.ts';
import type { RestorePlanPorts } from '../restore/ports.ts';

const CLASSES: RestoreClass[] = ['database', 'image', 'content', 'logs'];

export interface RehearsalItems {
  items: RequestedItem[];
  /**
   * Database item key → its LatestRestorableTime at the plan (ISO), where it has one (with
   * sources, read in that account's source region through its kura-source role).
   */
  latestRestorable: Record<string, string>;
  /** Configured classes with no recovery point at or before `at`, and why. */
  nothing: { class: RestoreClass; reason: string }[];
}

function configured(deps: Deps, cls: RestoreClass): boolean {
  const p = deps.policy;
  if (cls === 'database') return p.database !== undefined;
  if (cls === 'image') return p.images !== undefined;
  if (cls === 'content') return p.content.length > 0;
  return p.logs !== undefined;
}

/** An item's key: class and name, and with sources the account and region (keys stay unique). */
function originItemKey(cls: RestoreClass, source: string, o: Origin): string {
  return itemKey(cls, o.account ? `${source}-${o.account}-${o.sourceRegion ?? ''}` : source);
}

export async function rehearsalItems(deps: Deps, ports: RestorePlanPorts, at: Date): Promise<RehearsalItems> {
  const items: RequestedItem[] = [];
  const latestRestorable: Record<string, string> = {};
  const nothing: RehearsalItems['nothing'] = [];
  for (const cls of CLASSES) {
    if (!configured(deps, cls)) continue;
    const listing = await ports.listing(cls);
    // One item per (source account, source region, name), as the monthly validation plans:
    // with sources, two accounts' databases of one name are two items, each from its own copies.
    const found = new Map<string, { source: string; origin: Origin }>();
    for (const p of await listing.list(deps, { before: at })) {
      const origin = originOf(p);
      found.set(originKey(p.source, origin), { source: p.source, origin });
    }
    if (found.size === 0)
      nothing.push({
        class: cls,
        reason: `no kura-managed ${cls} recovery point at or before ${at.toISOString()}`,
      });
    for (const [, { source, origin }] of [...found.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const key = originItemKey(cls, source, origin);
      items.push({
        key,
        class: cls,
        source,
        selection: { kind: 'before', time: at.toISOString() },
        // What the listing filters by: that account's (and region's) copies only.
        options: { ...origin },
      });
      if (cls !== 'database') continue;
      const latest = await ports.latestRestorableTime(source, origin);
      if (latest) latestRestorable[key] = latest.toISOString();
    }
  }
  return { items, latestRestorable, nothing };
}
