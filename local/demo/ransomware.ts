// Demo step 6: a ransomware day (issue 16). kura in the backup account pulls
// from two source accounts (B in two regions) through their kura-source
// roles, reached by STS with the ExternalId; a week of scheduled backups;
// then an administrator of source A destroys everything A holds and turns on
// the backups; the orchestrated restore brings all four classes back into
// the isolated account, and `kura report inventory` still lists every
// recovery point. The attacker's refusals are declared to the IAM front
// layer: they are the point of the step, not a policy defect.
import { randomBytes } from 'node:crypto';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { reportPorts } from '../../shared/edge/report-ports.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import type { ReportItem, RestoreReport } from '../../shared/restore/plan.ts';
import { buildInventoryReport } from '../../shared/usecases/report-inventory.ts';
import { callControl, controlEndpoint, operatorClients } from '../iam/principals.ts';
import { attemptRows, objectVersions, raisedAlerts, ransomwareDay } from '../ransomware.ts';
import {
  BACKUP_ACCOUNT,
  compareBytes,
  logsBetween,
  type RansomwareEstate,
  ransomwareEstate,
  restoreEverything,
  SOURCE_A,
  SOURCE_B,
  SOURCE_B_SECOND_REGION,
  sourceExternalId,
  sourceRoleArn,
  weekOfBackups,
} from '../ransomware-estate.ts';
import { runRestoreLocally } from '../restore.ts';
import type { DemoStep } from './types.ts';

/** The inventory's recovery points per class, account and location (what `kura report inventory` lists). */
async function inventoryRows(e: RansomwareEstate, backup: Clients, at: Date) {
  const deps = { policy: e.policy, clients: backup };
  const report = await buildInventoryReport(deps, reportPorts(deps), { at, days: 10 });
  const rows = new Map<string, Record<string, unknown> & { points: number }>();
  for (const p of report.points) {
    const k = `${p.class}|${p.account ?? ''}|${p.sourceRegion ?? ''}|${p.location ?? ''}`;
    const row = rows.get(k) ?? {
      class: p.class,
      account: p.account ?? '',
      region: p.sourceRegion ?? '',
      location: p.location ?? '',
      points: 0,
    };
    row.points++;
    rows.set(k, row);
  }
  return [...rows.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

export const ransomwareDemo: DemoStep = {
  title:
    'Ransomware day: an administrator of a source account destroys it and turns on the backups; everything comes back',
  async run(ctx) {
    const backup = ctx.deps.clients;
    const iso = ctx.deps.policy.isolatedAccount;
    if (!iso) return { ok: true, summary: 'no isolatedAccount in the policy: nowhere to restore into' };
    const e = await ransomwareEstate(backup, ctx.deps.policy, randomBytes(3).toString('hex'));
    const region = e.policy.region;
    ctx.log(
      'accounts (each source reached by STS AssumeRole into its kura-source role, with its ExternalId):',
    );
    ctx.table([
      {
        account: BACKUP_ACCOUNT,
        kind: 'backup',
        regions: region,
        holds: `kura, the vault ${e.policy.vault.bucket}`,
      },
      {
        account: SOURCE_A,
        kind: 'source A',
        regions: region,
        holds: `database ${e.db}, server ${e.instance}, content ${e.content.bucket}, log landing ${e.landing.bucket}`,
      },
      {
        account: SOURCE_B,
        kind: 'source B',
        regions: [region, SOURCE_B_SECOND_REGION],
        holds: `database ${e.dbB} (${SOURCE_B_SECOND_REGION})`,
      },
      { account: iso.accountId, kind: 'isolated', regions: iso.region ?? region, holds: 'restores only' },
    ]);

    const week = await weekOfBackups(e, backup, ctx.clock, { end: ctx.to, days: 6 });
    const failed = week.runs.filter((r) => !r.result.ok);
    ctx.log(
      `a week of scheduled backups: ${week.runs.length - failed.length}/${week.runs.length} runs ok${failed.length ? ` (failed: ${failed.map((f) => f.what).join(', ')})` : ''}`,
    );
    const now = new Date(ctx.to.getTime());
    ctx.clock.set(now);
    const before = await inventoryRows(e, backup, now);
    const versionsBefore = await objectVersions(backup.get(S3Client), e.policy.vault.bucket);

    ctx.log(`source ${SOURCE_A}'s administrator (AdministratorAccess there) goes to work …`);
    const mark = controlEndpoint() ? (await callControl<{ seq: number }>('mark', {})).seq : 0;
    const attacker = await e.admin(SOURCE_A, region);
    const day = await ransomwareDay(() => attacker, {
      account: SOURCE_A,
      regions: [region],
      sources: [e.content, e.landing],
      vault: { bucket: e.policy.vault.bucket, versions: versionsBefore },
      keys: [e.vaultKeyArn, e.copiesKeyArn],
      roles: [
        { arn: sourceRoleArn(SOURCE_A), externalId: sourceExternalId(SOURCE_A) },
        { arn: `arn:aws:iam::${BACKUP_ACCOUNT}:role/kura-admin` },
      ],
    });
    if (controlEndpoint()) await callControl('expect', { since: mark });
    ctx.table(attemptRows(day));
    const backupSide = day.attempts.filter((a) => a.side === 'backup' || a.call === 'sts:AssumeRole');
    const sourceSide = day.attempts.filter((a) => !backupSide.includes(a));
    const vaultAfter = await objectVersions(backup.get(S3Client), e.policy.vault.bucket);
    const vaultIntact =
      JSON.stringify(vaultAfter.map((v) => `${v.key}#${v.versionId}`).sort()) ===
      JSON.stringify(versionsBefore.map((v) => `${v.key}#${v.versionId}`).sort());
    ctx.log(
      `in source ${SOURCE_A}: ${sourceSide.filter((a) => a.outcome === 'done').length}/${sourceSide.length} destructive calls went through; against the backups: ${backupSide.filter((a) => a.outcome === 'refused').length}/${backupSide.length} refused; the vault holds all ${versionsBefore.length} versions it held: ${vaultIntact}`,
    );
    const alerts = await raisedAlerts(backup.get(EventBridgeClient), day, region);
    ctx.log(
      'alerts the detective controls raise (deploy/detective-controls.yml, from the CloudTrail events):',
    );
    ctx.table(alerts.map((a) => ({ rule: a.rule, event: a.eventName, times: a.count })));

    // The on-call engineer restores everything of source A at one point in time.
    const chosen = week.times.length - 2;
    const { atDay, from, request } = restoreEverything(e, week, chosen);
    ctx.log(`orchestrated restore (statemachines/restore.asl.yml) at ${request.at} into ${iso.accountId} …`);
    const deps = { policy: e.policy, clients: backup };
    const out = await runRestoreLocally(request, {
      deps,
      onEvent: (ev) => {
        if (ev.type === 'StateFailed' || ev.type === 'TaskFailed')
          ctx.log(`  ✗ ${ev.state ?? ''} ${ev.error ?? ''} ${ev.cause ?? ''}`.slice(0, 300));
      },
    });
    const requestId = (out.output as { requestId?: string } | undefined)?.requestId ?? '';
    const report = requestId
      ? await new S3RestoreStore(backup, e.policy.vault.bucket).get<RestoreReport>(requestId, 'report.json')
      : undefined;
    if (!report) return { ok: false, summary: `restore ${out.status}: ${out.cause ?? 'no report'}` };
    ctx.table(
      report.items.map((i) => ({
        class: i.class,
        'recovery point': i.recoveryPoint.id,
        status: i.status,
        restored: i.resources.map((r) => r.id).join(' '),
      })),
    );

    // What the isolated account now holds, looked at by its administrator.
    const isolated = await operatorClients(iso.accountId, backup);
    const byClass = Object.fromEntries(report.items.map((i) => [i.class, i]));
    const ids = (i: ReportItem | undefined) => (i?.resources ?? []).map((r) => r.id);
    const dbs = (await isolated.get(RDSClient).send(new DescribeDBInstancesCommand({}))).DBInstances ?? [];
    const db = dbs.find((d) => ids(byClass.database).includes(d.DBInstanceIdentifier ?? ''));
    const servers = (
      (await isolated.get(EC2Client).send(new DescribeInstancesCommand({}))).Reservations ?? []
    )
      .flatMap((r) => r.Instances ?? [])
      .filter((i) => ids(byClass.image).includes(i.InstanceId ?? ''));
    const where = (i: ReportItem | undefined) => /^s3:\/\/([^/]+)\/(.+)$/.exec(i?.endpoint ?? '');
    const s3 = isolated.get(S3Client);
    const compare = async (i: ReportItem | undefined, expected: Map<string, Buffer | string>) => {
      const m = where(i);
      return m ? compareBytes(s3, m[1] ?? '', m[2] ?? '', expected) : undefined;
    };
    const content = await compare(byClass.content, week.contentByDay[chosen] ?? new Map());
    const logs = await compare(byClass.logs, logsBetween(week, from, atDay));
    const exact = (c: typeof content) =>
      !!c && c.identical > 0 && !c.missing.length && !c.extra.length && !c.different.length;
    ctx.log(`database: ${db ? `${db.DBInstanceIdentifier} (${db.DBInstanceStatus})` : 'missing'}`);
    ctx.log(
      `servers: ${servers.map((s) => `${s.InstanceId} ${s.State?.Name} from ${s.ImageId}`).join(', ') || 'none launched'}`,
    );
    ctx.log(
      `content: ${content?.identical ?? 0} objects byte-identical to the day's source (${JSON.stringify(content)})`,
    );
    ctx.log(`logs: ${logs?.identical ?? 0} files byte-identical to what landed (${JSON.stringify(logs)})`);

    const after = await inventoryRows(e, backup, ctx.clock.now());
    ctx.log('kura report inventory, after the attack (every recovery point the backup account holds):');
    ctx.table(after);
    const inventoryIntact = JSON.stringify(before) === JSON.stringify(after);
    const ok =
      failed.length === 0 &&
      sourceSide.every((a) => a.outcome === 'done') &&
      backupSide.every((a) => a.outcome === 'refused') &&
      vaultIntact &&
      report.status === 'SUCCEEDED' &&
      !!db &&
      servers.length === 1 &&
      exact(content) &&
      exact(logs) &&
      inventoryIntact;
    return {
      ok,
      summary: `${backupSide.filter((a) => a.outcome === 'refused').length}/${backupSide.length} attempts on the backups refused; ${alerts.reduce((n, a) => n + a.count, 0)} alerts; restore ${report.status}; content and logs byte-identical: ${exact(content) && exact(logs)}; inventory unchanged: ${inventoryIntact}`,
    };
  },
};
