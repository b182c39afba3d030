// AWS adapter: the databases kura backs up, as the estate and kura's own
// snapshots show them. A selected database that exists, and, when asked for
// by name, a database that is gone but whose kura-managed snapshots remain: a
// deleted database is the one a restore (and the inventory) most needs to
// find. Gone databases are named by the caller (the restore request, the
// vault's first-point records), because a snapshot does not carry the
// selector tag its database had.
import {
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  RDSClient,
} from '@aws-sdk/client-rds';
import { fromTagList, isManaged, TAG } from '../domain/tags.ts';
import type { Policy } from '../policy/schema.ts';
import type { Clients } from './clients.ts';
import { type DatabaseKind, RdsAdapter } from './rds.ts';

export interface BackedUpDatabase {
  id: string;
  kind: DatabaseKind;
  engine: string;
  /** False: the database is gone; only its snapshots remain. */
  exists: boolean;
}

export async function backedUpDatabases(
  clients: Clients,
  policy: Policy,
  gone: string[] = [],
): Promise<BackedUpDatabase[]> {
  const selector = policy.selector;
  const estate = await new RdsAdapter(clients).listDatabases();
  const live = estate.filter((d) => d.tags[selector.tagKey] === selector.tagValue);
  const all = new Set(estate.map((d) => d.id));
  const out: BackedUpDatabase[] = live.map((d) => ({
    id: d.id,
    kind: d.kind,
    engine: d.engine,
    exists: true,
  }));
  const wanted = new Set(gone.filter((g) => !all.has(g)));
  // With sources, the databases live in the source accounts: the backup account knows them by
  // its copies of their snapshots (each tagged with its source), every one of them.
  const everyCopy = Boolean(policy.sources?.length);
  if (wanted.size === 0 && !everyCopy) return out;
  const found = new Map<string, BackedUpDatabase>();
  const rds = clients.get(RDSClient);
  const note = (
    kind: DatabaseKind,
    tags: { Key?: string; Value?: string }[] | undefined,
    engine?: string,
  ) => {
    const t = fromTagList(tags);
    const source = t[TAG.source];
    if (!source || all.has(source) || !isManaged(t, 'database') || found.has(source)) return;
    if (!everyCopy && !wanted.has(source)) return;
    found.set(source, { id: source, kind, engine: engine ?? '', exists: false });
  };
  for await (const page of paginateDescribeDBSnapshots({ client: rds }, { SnapshotType: 'manual' }))
    for (const s of page.DBSnapshots ?? []) note('instance', s.TagList, s.Engine);
  for await (const page of paginateDescribeDBClusterSnapshots({ client: rds }, { SnapshotType: 'manual' }))
    for (const s of page.DBClusterSnapshots ?? []) note('cluster', s.TagList, s.Engine);
  return [...out, ...found.values()].sort((a, b) => a.id.localeCompare(b.id));
}
