// Use case: what a crashed run may leave behind. Each backup class contributes
// a finder; `kura report inventory` lists the findings so that an interrupted
// run is visible, never silent. Finders only read: nothing here deletes.
import type { Deps } from '../runtime/lambda.ts';
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

export type OrphanFinder = (deps: Deps) => Promise<Orphan[]>;

const FINDERS: OrphanFinder[] = [databaseOrphans, contentOrphans, logOrphans, imageOrphans];

export async function findOrphans(deps: Deps): Promise<Orphan[]> {
  const all = (await Promise.all(FINDERS.map((f) => f(deps)))).flat();
  return all.sort((a, b) => a.class.localeCompare(b.class) || a.id.localeCompare(b.id));
}
