// Orphan finder (database class): RDS snapshots of the selected databases, in
// the policy's region and the DR region, that are named like kura's recovery
// points but carry no kura:managed tag (kura neither prunes nor adopts them),
// and kura's own snapshots still not available past database.stuckAfterHours
// (measured on the Clients' timer: real time on AWS, simulated time locally).

import type { Deps } from '../../aws/deps.ts';
import type { EstatePorts } from '../../aws/report-ports.ts';
import { IDENTIFIER_LIMIT, recoveryPointName } from '../../domain/naming.ts';
import { isManaged } from '../../domain/tags.ts';
import type { Orphan } from '../orphans.ts';

export async function databaseOrphans(
  { policy, clients }: Deps,
  { databases: rds }: EstatePorts,
): Promise<Orphan[]> {
  const cfg = policy.database;
  if (!cfg) return [];
  const dbs = (await rds.listDatabases()).filter(
    (d) => d.tags[policy.selector.tagKey] === policy.selector.tagValue,
  );
  const regions = [policy.region, ...(cfg.copy ? [cfg.copy.region] : [])];
  const out: Orphan[] = [];
  for (const db of dbs) {
    const named = new RegExp(`^${recoveryPointName(db.id, new Date(0), IDENTIFIER_LIMIT[db.kind]).replace(/\d{12}$/, '')}\\d{12}$`);
    for (const region of regions) {
      for (const s of await rds.listSnapshots(db.kind, db.id, region)) {
        const time = s.createdAt?.toISOString();
        if (!isManaged(s.tags) && named.test(s.id)) {
          out.push({
            class: 'database',
            kind: 'snapshot',
            id: s.arn || s.id,
            region,
            reason: `named like a kura recovery point of ${db.id} but not tagged kura:managed=true: kura never prunes or adopts it; delete it if kura's run left it, rename it if a person made it`,
            ...(time ? { time } : {}),
          });
        } else if (
          isManaged(s.tags, 'database') &&
          s.status !== 'available' &&
          s.createdAt &&
          clients.timer.now() - s.createdAt.getTime() > cfg.stuckAfterHours * 3_600_000
        ) {
          out.push({
            class: 'database',
            kind: 'snapshot',
            id: s.arn || s.id,
            region,
            reason: `kura's snapshot of ${db.id} has been ${s.status} for more than ${cfg.stuckAfterHours} h (database.stuckAfterHours): it is not a recovery point until AWS finishes it; rds-snapshot warns, then fails, while it stays so`,
            ...(time ? { time } : {}),
          });
        }
      }
    }
  }
  return out;
}
