// Use case (yearly rehearsal), inside the restore's plan: a rehearsal request
// names no items; it restores every class the policy backs up, each source's
// recovery point closest before the one time `at` (as the monthly validation
// picks per class and source). It also records each source database's
// LatestRestorableTime now, at the run, for the PITR RPO of the rehearsal report.
import type { Deps } from '../../aws/deps.ts';
import { itemKey, type RequestedItem } from '../../restore/request.ts';
import type { RestoreClass } from '../../restore/types.ts';
import type { RestorePlanPorts } from '../restore/ports.ts';

const CLASSES: RestoreClass[] = ['database', 'image', 'content', 'logs'];

export interface RehearsalItems {
  items: RequestedItem[];
  /** Database source → its LatestRestorableTime at the plan (ISO), where it has one. */
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

export async function rehearsalItems(deps: Deps, ports: RestorePlanPorts, at: Date): Promise<RehearsalItems> {
  const items: RequestedItem[] = [];
  const latestRestorable: Record<string, string> = {};
  const nothing: RehearsalItems['nothing'] = [];
  for (const cls of CLASSES) {
    if (!configured(deps, cls)) continue;
    const listing = await ports.listing(cls);
    const sources = [...new Set((await listing.list(deps, { before: at })).map((p) => p.source))].sort();
    if (sources.length === 0)
      nothing.push({
        class: cls,
        reason: `no kura-managed ${cls} recovery point at or before ${at.toISOString()}`,
      });
    for (const source of sources) {
      items.push({
        key: itemKey(cls, source),
        class: cls,
        source,
        selection: { kind: 'before', time: at.toISOString() },
        options: {},
      });
      if (cls !== 'database') continue;
      const latest = await ports.latestRestorableTime(source);
      if (latest) latestRestorable[source] = latest.toISOString();
    }
  }
  return { items, latestRestorable, nothing };
}
