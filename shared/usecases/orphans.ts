// Use case: what a crashed run may leave behind. Each backup class contributes
// a finder; `kura report inventory` lists the findings so that an interrupted
// run is visible, never silent. Finders only read: nothing here deletes.
import type { Deps } from '../aws/deps.ts';
import type { EstatePorts } from '../aws/report-ports.ts';
import { errorInfo } from '../runtime/result.ts';
import { contentOrphans } from './orphans/content.ts';
import { databaseOrphans } from './orphans/database.ts';
import { imageOrphans } from './orphans/image.ts';
import { logOrphans } from './orphans/logs.ts';

export interface Orphan {
  class: 'database' | 'content' | 'logs' | 'image';
  /** What kind of leftover: e.g. 'snapshot', 'image', 'manifest', 'bundle', 'object'. */
  kind: string;
  /** The resource id, ARN or s3:// key. */
  id: string;
  region: string;
  /** Why it is an orphan, in words an operator can act on. */
  reason: string;
  /** When it was made, ISO-8601, when known. */
  time?: string;
}

export type OrphanFinder = (deps: Deps, estate: EstatePorts) => Promise<Orphan[]>;

const FINDERS: Record<Orphan['class'], OrphanFinder> = {
  database: databaseOrphans,
  content: contentOrphans,
  logs: logOrphans,
  image: imageOrphans,
};

export async function findOrphans(deps: Deps, estate: EstatePorts, finders = FINDERS): Promise<Orphan[]> {
  const found = await Promise.all(
    Object.entries(finders).map(([cls, find]) =>
      // One class that cannot be searched must not hide what the others found,
      // nor pass for "nothing left behind": it becomes a row of its own.
      find(deps, estate).catch((err: unknown): Orphan[] => [
        {
          class: cls as Orphan['class'],
          kind: 'search failed',
          id: '-',
          region: deps.clients.region,
          reason: `could not look for leftovers: ${errorInfo(err).name}: ${errorInfo(err).message}`,
        },
      ]),
    ),
  );
  return found.flat().sort((a, b) => a.class.localeCompare(b.class) || a.id.localeCompare(b.id));
}
