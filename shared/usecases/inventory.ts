// Use case: the inventory of kura-managed recovery points. Each backup class
// contributes a lister; the validation planner and reports read the same list.

import type { Deps } from '../aws/deps.ts';
import type { EstatePorts } from '../aws/report-ports.ts';
import type { Point } from '../domain/reports/coverage.ts';
import { isManaged, TAG } from '../domain/tags.ts';
import { contentGenerations } from './content-inventory.ts';
import { imageInventory } from './image-inventory.ts';
import { logInventory } from './log-inventory.ts';

/** One recovery point: the shape the coverage report reads. */
export type InventoryItem = Point;

export interface InventoryOptions {
  /** Databases kura recorded (the vault's first-point records): found by their snapshots when they are gone. */
  databases?: string[];
  /** What a lister could not read (a source account that refuses), for the report's notes. */
  notes?: string[];
}

type Lister = (deps: Deps, estate: EstatePorts, opts: InventoryOptions) => Promise<InventoryItem[]>;

async function databaseSnapshots(
  { policy, clients }: Deps,
  estate: EstatePorts,
  opts: InventoryOptions,
): Promise<InventoryItem[]> {
  const regions = [clients.region, ...(policy.database?.copy ? [policy.database.copy.region] : [])];
  const out: InventoryItem[] = [];
  // A deleted database's snapshots are recovery points too (the ones a restore needs most).
  for (const db of await estate.backedUpDatabases(opts.databases)) {
    for (const region of regions) {
      for (const s of await estate.databases.listSnapshots(db.kind, db.id, region)) {
        if (!isManaged(s.tags, 'database')) continue;
        out.push({
          class: 'database',
          source: db.id,
          id: s.id,
          time: s.tags[TAG.time] ?? '',
          region,
          status: s.status,
          validated: s.tags[TAG.validated],
        });
      }
    }
  }
  return out;
}

const LISTERS: Lister[] = [databaseSnapshots, contentGenerations, logInventory, imageInventory];

export async function inventory(
  deps: Deps,
  estate: EstatePorts,
  opts: InventoryOptions = {},
): Promise<InventoryItem[]> {
  const all = (await Promise.all(LISTERS.map((l) => l(deps, estate, opts)))).flat();
  return all.sort(
    (a, b) =>
      a.class.localeCompare(b.class) ||
      (a.account ?? '').localeCompare(b.account ?? '') ||
      a.source.localeCompare(b.source) ||
      a.time.localeCompare(b.time),
  );
}
