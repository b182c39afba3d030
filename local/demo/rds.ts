// Demo step (database class): a small estate of tagged and untagged databases
// and an Aurora cluster, the daily schedule run over the simulated weeks, on
// AWS's timing: each run finds its own snapshot still `creating`, and the next
// run copies it to the DR region, shares it and prunes what it replaces.
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { rdsSnapshot as run } from '../iam/functions.ts';
import { RdsAdapter } from '../../shared/aws/rds.ts';
import { occurrences } from '../../shared/domain/schedule-occurrences.ts';
import { isManaged } from '../../shared/domain/tags.ts';
import { localDate } from '../../shared/policy/calendar.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import type { DemoStep } from './types.ts';

async function seedEstate(ctx: Parameters<DemoStep['run']>[0]): Promise<void> {
  const rds = ctx.deps.clients.get(RDSClient);
  const sel = ctx.deps.policy.selector;
  const tagged = [
    { Key: sel.tagKey, Value: sel.tagValue },
    { Key: 'env', Value: 'prod' },
    { Key: 'app', Value: 'shop' },
  ];
  const base = {
    DBInstanceClass: 'db.t4g.medium',
    MasterUsername: 'admin',
    MasterUserPassword: 'demo-password-1',
    AllocatedStorage: 20,
    BackupRetentionPeriod: 7,
  };
  await rds.send(
    new CreateDBInstanceCommand({ ...base, DBInstanceIdentifier: 'shop-db', Engine: 'mysql', Tags: tagged }),
  );
  // A database whose automated backups are too short: reported, not fixed.
  await rds.send(
    new CreateDBInstanceCommand({
      ...base,
      DBInstanceIdentifier: 'billing-db',
      Engine: 'mysql',
      BackupRetentionPeriod: 3,
      Tags: tagged,
    }),
  );
  await rds.send(
    new CreateDBInstanceCommand({
      ...base,
      DBInstanceIdentifier: 'scratch-db',
      Engine: 'postgres',
      Tags: [{ Key: 'env', Value: 'dev' }],
    }),
  );
  await rds.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: 'reports-aurora',
      Engine: 'aurora-mysql',
      MasterUsername: 'admin',
      MasterUserPassword: 'demo-password-1',
      BackupRetentionPeriod: 7,
      Tags: tagged,
    }),
  );
  // An operator's own snapshot named like kura's: it must survive pruning.
  await rds.send(
    new CreateDBSnapshotCommand({
      DBInstanceIdentifier: 'shop-db',
      DBSnapshotIdentifier: 'kura-shop-db-200001010000',
    }),
  );
}

export const rdsDemo: DemoStep = {
  title: 'Database: daily RDS and Aurora snapshots, PITR checks, DR copies, pruning',
  async run(ctx) {
    const { policy } = ctx.deps;
    const expr = policy.schedules['rds-snapshot'];
    if (!expr) return { ok: true, summary: 'no rds-snapshot schedule in the policy' };
    const rows: Record<string, unknown>[] = [];
    let failures = 0;
    let last: RunResult | undefined;
    const schedule = occurrences(expr, policy.timezone, ctx.from, ctx.to);
    // The estate exists before the first run.
    if (schedule[0]) ctx.clock.set(new Date(schedule[0].getTime() - 3_600_000));
    await seedEstate(ctx);
    ctx.log(
      'estate: shop-db (mysql, tagged), billing-db (tagged, 3-day automated backups), scratch-db (untagged), reports-aurora (Aurora, tagged)',
    );
    for (const time of schedule) {
      // The run happens at its scheduled time: the emulator has finished what earlier runs started.
      ctx.clock.set(time);
      const result = await run(syntheticScheduledEvent(time), ctx.deps);
      last = result;
      if (!result.ok) failures++;
      const created = result.targets.filter((t) => t.actions.some((a) => a.startsWith('created'))).length;
      const pruned = result.targets.reduce(
        (n, t) => n + ((t.pruned as string[] | undefined)?.length ?? 0),
        0,
      );
      const count = (k: string) =>
        result.targets.reduce((n, t) => n + ((t[k] as string[] | undefined)?.length ?? 0), 0);
      rows.push({
        [`date (${policy.timezone})`]: localDate(time, policy.timezone),
        created,
        // AWS finishes a snapshot after its run: copies and shares are of earlier days' snapshots.
        stillCreating: result.targets.filter((t) => t.snapshotStatus && t.snapshotStatus !== 'available')
          .length,
        copiedToDr: count('copied'),
        shared: count('shared'),
        pruned,
        warnings: result.targets.reduce((n, t) => n + t.warnings.length, 0),
        ok: result.ok,
      });
    }
    ctx.table(rows);
    if (last) {
      ctx.log('last run, per database:');
      ctx.table(
        last.targets.map((t) => ({
          database: t.target,
          status: t.status,
          snapshot: t.snapshot,
          warnings: t.warnings.join('; '),
        })),
      );
      ctx.log(`untouched (not tagged): ${(last.skipped as string[]).join(', ')}`);
    }
    const adapter = new RdsAdapter(ctx.deps.clients);
    const kept = (await adapter.listSnapshots('instance', 'shop-db')).sort((a, b) =>
      a.id.localeCompare(b.id),
    );
    ctx.log('shop-db snapshots now (the newest is still creating: the next run copies and shares it):');
    ctx.table(
      kept.map((s) => ({
        snapshot: s.id,
        status: s.status,
        managed: isManaged(s.tags),
        time: s.tags['kura:time'] ?? '(operator snapshot)',
      })),
    );
    const lookalike = kept.some((s) => s.id === 'kura-shop-db-200001010000');
    const total = (k: string) => rows.reduce((n, r) => n + Number(r[k] ?? 0), 0);
    // Under AWS timing copies and shares come a run after their snapshot: none is a sign of the old early return.
    const retain = policy.database?.retainDays ?? 7;
    const converged =
      (rows.length < 2 || (total('copiedToDr') > 0 && total('shared') > 0)) &&
      (rows.length <= retain + 1 || total('pruned') > 0);
    return {
      ok: failures === 0 && lookalike && converged,
      summary: `${rows.length} scheduled runs, ${failures} failed; ${total('copiedToDr')} DR copies, ${total('shared')} shares and ${total('pruned')} prunes, each a run after its snapshot; operator lookalike snapshot ${lookalike ? 'kept' : 'LOST'}`,
    };
  },
};
