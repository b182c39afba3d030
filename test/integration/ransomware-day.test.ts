// Issue 16, the proof: a ransomware day. A week of scheduled backups runs for
// two source accounts (B in two regions) into the backup account; then an
// administrator of source A, acting on purpose with that account's full
// rights (local/ransomware.ts), destroys every recovery point, database,
// server, content object and log file there, turns automated backups off, and
// turns on the backups: every vault object version, the vault's lifecycle,
// policy, Object Lock and versioning, the backup account's keys, kura's roles.
// Afterwards an orchestrated restore of all four classes at one point in time
// into the isolated account succeeds, from what the backup account holds.
//
// "Full rights" in the emulator: the account's administrator credentials
// (AdministratorAccess) the IAM front layer issues; every request is answered
// there from the deployed policies as AWS would. Which refusal comes from
// where:
// - the account boundary: a call on the backup account's vault bucket, keys or
//   roles is refused because no resource policy there (VaultBucketPolicy, the
//   key policies, kura-admin's trust policy) grants source A anything; on AWS
//   the same, with the same AccessDenied shapes.
// - a trust policy: source A's own kura-source role trusts only kura's function
//   roles of the backup account (ExternalId known or not). On AWS an
//   administrator of A could rewrite that trust policy and then act as
//   kura-source: it may only add objects under A's own vault prefixes (each a
//   new version beside the locked ones; no s3:DeleteObject*, no retention
//   change, and the vault bucket policy denies data access to any other role).
//   The emulator's front layer reads trust from the templates, so it does not
//   model a rewritten trust policy.
// - Object Lock: no call of the attacker reaches S3's lock check, since the
//   boundary refuses first; the lock itself (COMPLIANCE refusing a delete of a
//   locked version to the backup account's own administrator) is
//   test/integration/vault-lock.test.ts's.
// Not modelled here, allowed on AWS too: AWS Organizations' SCPs (none are
// assumed), CloudTrail itself (the alerts are matched from the events
// CloudTrail would record: local/ransomware.ts, raisedAlerts).
//
// The attacker is confined to this file's resources (`scope`): other test
// files use the same emulated source accounts at the same time.
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportPorts } from '../../shared/edge/report-ports.ts';
import { callControl, operatorClients } from '../../local/iam/principals.ts';
import { objectVersions, raisedAlerts, ransomwareDay, type RansomwareDay } from '../../local/ransomware.ts';
import {
  BACKUP_ACCOUNT,
  type RansomwareEstate,
  ransomwareEstate,
  SOURCE_A,
  SOURCE_B,
  SOURCE_B_SECOND_REGION,
  sourceExternalId,
  sourceRoleArn,
  type Week,
  compareBytes,
  logsBetween,
  restoreEverything,
  weekOfBackups,
} from '../../local/ransomware-estate.ts';
import { runRestoreLocally } from '../../local/restore.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import type { ReportItem, RestoreReport } from '../../shared/restore/plan.ts';
import { buildInventoryReport } from '../../shared/usecases/report-inventory.ts';
import { clock, emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { keys } from '../support/logs.ts';

const REGION = 'ap-northeast-1';
let backup: Clients;
let e: RansomwareEstate;
let week: Week;
let day: RansomwareDay;
let before: { vault: string[]; inventory: string[] };
let declared: unknown[];

const vaultVersions = (bucket: string) => objectVersions(backup.get(S3Client), bucket);

/** `kura report inventory` (the report the CLI builds), as this file's points: class, source, id, location. */
async function inventory(): Promise<string[]> {
  const deps = { policy: e.policy, clients: backup };
  const report = await buildInventoryReport(deps, reportPorts(deps), { at: new Date(), days: 10 });
  const mine = [e.db, e.dbB, e.instance, e.content.name, e.host];
  return report.points
    .filter((p) => mine.some((m) => p.source.includes(m)))
    .map((p) => `${p.class} ${p.source} ${p.id} ${p.location ?? ''}`)
    .sort();
}

beforeAll(async () => {
  backup = emulatorClients();
  const sfx = uniqueSuffix();
  e = await ransomwareEstate(backup, testPolicy(), sfx);
  week = await weekOfBackups(e, backup, clock, { end: new Date(), days: 6 });

  clock.set(new Date());
  before = {
    vault: (await vaultVersions(e.policy.vault.bucket)).map((v) => `${v.key}#${v.versionId}`).sort(),
    inventory: await inventory(),
  };
  const attacker = new Map<string, Clients>();
  for (const r of [REGION]) attacker.set(r, await e.admin(SOURCE_A, r));
  const mark = (await callControl<{ seq: number }>('mark', {})).seq;
  day = await ransomwareDay((r) => attacker.get(r) as Clients, {
    account: SOURCE_A,
    regions: [REGION],
    sources: [e.content, e.landing],
    vault: { bucket: e.policy.vault.bucket, versions: await vaultVersions(e.policy.vault.bucket) },
    keys: [e.vaultKeyArn, e.copiesKeyArn],
    roles: [
      { arn: sourceRoleArn(SOURCE_A), externalId: sourceExternalId(SOURCE_A) },
      { arn: `arn:aws:iam::${BACKUP_ACCOUNT}:role/kura-admin` },
    ],
    scope: [sfx, e.instance],
  });
  // The front layer's refusals are the attack's, expected: declared, so that they fail no test.
  declared = await callControl<unknown[]>('expect', { since: mark });
}, 600_000);

describe('a ransomware day: an administrator of a source account turns on the backups', () => {
  it('the week of backups ran, for both source accounts', () => {
    expect(
      week.runs.filter((r) => !r.result.ok).map((r) => `${r.what}: ${JSON.stringify(r.result)}`),
    ).toEqual([]);
    expect(before.inventory.some((p) => p.includes(e.dbB))).toBe(true);
  });

  it('destroys everything the source account held, and nothing of the backups', async () => {
    const source = day.attempts.filter((a) => a.side === 'source' && a.call !== 'sts:AssumeRole');
    const backupSide = day.attempts.filter((a) => a.side === 'backup' || a.call === 'sts:AssumeRole');

    // In its own account, every call went through: the databases, snapshots, images, servers and objects are gone.
    expect(
      source.filter((a) => a.outcome !== 'done').map((a) => `${a.call} ${a.target}: ${a.message}`),
    ).toEqual([]);
    const calls = new Set(source.map((a) => a.call));
    for (const c of [
      'rds:ModifyDBInstance',
      'rds:DeleteDBSnapshot',
      'rds:DeleteDBInstance',
      'ec2:DeregisterImage',
      'ec2:DeleteSnapshot',
      'ec2:TerminateInstances',
      's3:DeleteObjects',
    ])
      expect(calls, c).toContain(c);
    const a = await e.admin(SOURCE_A);
    const left = await a.get(RDSClient).send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: e.db }));
    expect(left.DBSnapshots ?? []).toEqual([]);
    const dbs = (await a.get(RDSClient).send(new DescribeDBInstancesCommand({}))).DBInstances ?? [];
    expect(dbs.filter((d) => d.DBInstanceIdentifier === e.db && d.DBInstanceStatus !== 'deleting')).toEqual(
      [],
    );
    expect(await keys(a.get(S3Client), e.content.bucket, '')).toEqual([]);
    expect(await keys(a.get(S3Client), e.landing.bucket, '')).toEqual([]);

    // In the backup account, every attempt was refused, and the vault holds every version it held.
    expect(backupSide.length).toBeGreaterThan(before.vault.length);
    expect(backupSide.filter((x) => x.outcome !== 'refused').map((x) => `${x.call} ${x.target}`)).toEqual([]);
    // Each refusal is the IAM front layer's (the deployed policies), declared to the harness; none is S3's lock:
    // the boundary refuses first.
    expect(declared.length).toBe(backupSide.length);
    const by = (call: string, how?: string) => [
      ...new Set(
        backupSide.filter((x) => x.call === call && (!how || x.how === how)).map((x) => x.refusedBy),
      ),
    ];
    const dataDenied = 'policy: VaultBucketPolicy#DenyDataToAllButAdministratorsAndKura';
    const boundary = "account boundary: no policy of the resource's account grants this account";
    for (const call of ['s3:ListObjectVersions', 's3:DeleteObject', 's3:PutObject', 's3:PutObjectRetention'])
      expect(by(call), call).toEqual([dataDenied]);
    for (const call of [
      's3:PutBucketLifecycle',
      's3:PutBucketPolicy',
      's3:PutObjectLockConfiguration',
      's3:PutBucketVersioning',
      's3:DeleteBucket',
    ])
      expect(by(call), call).toEqual([boundary]);
    // The vault key: its policy's break-glass denial; the copies' key: no statement admits source A.
    const onKey = (key: string, call: string) =>
      backupSide.find((x) => x.target === key && x.call === call)?.refusedBy;
    for (const call of ['kms:ScheduleKeyDeletion', 'kms:DisableKey']) {
      expect(onKey(e.vaultKeyArn, call), call).toBe(
        'policy: VaultKey key policy#OnlyBreakGlassDisablesOrDeletesTheKey',
      );
      expect(onKey(e.copiesKeyArn, call), call).toBe(boundary);
    }
    expect(by('sts:AssumeRole')).toEqual(['trust policy: the role does not trust this account']);
    expect((await vaultVersions(e.policy.vault.bucket)).map((v) => `${v.key}#${v.versionId}`).sort()).toEqual(
      before.vault,
    );
  });

  it('raises the alerts of the detective controls', async () => {
    const alerts = await raisedAlerts(backup.get(EventBridgeClient), day, REGION);
    const raised = new Set(alerts.map((x) => `${x.rule} ${x.eventName}`));
    for (const a of [
      'DetectRecoveryPointDeletion DeleteDBSnapshot',
      'DetectRecoveryPointDeletion DeregisterImage',
      'DetectAutomatedBackupsDisabled ModifyDBInstance',
      'DetectVaultConfigurationChange PutBucketLifecycle',
      'DetectVaultConfigurationChange PutBucketPolicy',
      'DetectVaultConfigurationChange PutObjectLockConfiguration',
      'DetectKeyDisableOrDeletion ScheduleKeyDeletion',
      'DetectKeyDisableOrDeletion DisableKey',
    ])
      expect(raised, a).toContain(a);
  });

  it('kura report inventory still shows every recovery point', async () => {
    expect(await inventory()).toEqual(before.inventory);
  });

  it('restores all four classes at one point in time into the isolated account: the database, the servers, the content and logs byte for byte', async () => {
    // Prepare: the last day every class holds a recovery point in the backup account
    // (database and image copies are made by the next day's run).
    const chosen = week.times.length - 2;
    const { time: t, atDay, from, request } = restoreEverything(e, week, chosen);
    const deps = { policy: e.policy, clients: backup };

    // Act
    clock.set(new Date());
    const out = await runRestoreLocally(request, { deps });

    // Assess
    expect(out.status, out.cause).toBe('SUCCEEDED');
    const { requestId } = out.output as { requestId: string };
    const report = await new S3RestoreStore(backup, e.policy.vault.bucket).get<RestoreReport>(
      requestId,
      'report.json',
    );
    if (!report) throw new Error(`no report under restores/${requestId}/`);
    for (const i of report.items) expect(i.status, `${i.class}: ${i.error}`).toBe('done');
    const byClass = Object.fromEntries(report.items.map((i) => [i.class, i]));
    expect(Object.keys(byClass).sort()).toEqual(['content', 'database', 'image', 'logs']);
    expect(byClass.database?.recoveryPoint.time).toBe(t.toISOString());
    expect(byClass.image?.recoveryPoint.time).toBe(t.toISOString());

    const isolated = await operatorClients(e.policy.isolatedAccount?.accountId ?? '', backup);
    // The database: restored in the isolated account from the backup account's copy of source A's snapshot.
    expect(byClass.database?.recoveryPoint.id).toContain(`-${SOURCE_A}-${REGION}`);
    const dbIds = (byClass.database?.resources ?? []).map((r) => r.id);
    const restored =
      (await isolated.get(RDSClient).send(new DescribeDBInstancesCommand({}))).DBInstances ?? [];
    expect(restored.filter((d) => dbIds.includes(d.DBInstanceIdentifier ?? '')).length).toBe(1);
    // The server: launched in the isolated account from the restored image.
    const serverIds = (byClass.image?.resources ?? []).map((r) => r.id);
    const running = (
      (await isolated.get(EC2Client).send(new DescribeInstancesCommand({}))).Reservations ?? []
    )
      .flatMap((r) => r.Instances ?? [])
      .filter((i) => serverIds.includes(i.InstanceId ?? ''));
    expect(running.map((i) => i.State?.Name)).toEqual([expect.stringMatching(/^(pending|running)$/)]);

    // The content as that day's generation found it, and every log file of [from, day of `at`]: byte for byte.
    const s3 = isolated.get(S3Client);
    const where = (i: ReportItem | undefined) => {
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(i?.endpoint ?? '');
      if (!m) throw new Error(`${i?.key}: endpoint ${i?.endpoint}`);
      return { bucket: m[1] as string, prefix: m[2] as string };
    };
    const c = where(byClass.content);
    const content = week.contentByDay[chosen] as Map<string, Buffer>;
    expect(await compareBytes(s3, c.bucket, c.prefix, content)).toEqual({
      identical: content.size,
      missing: [],
      extra: [],
      different: [],
    });
    const l = where(byClass.logs);
    const logs = logsBetween(week, from, atDay);
    expect(logs.size).toBe(chosen + 1);
    expect(await compareBytes(s3, l.bucket, l.prefix, logs)).toEqual({
      identical: logs.size,
      missing: [],
      extra: [],
      different: [],
    });
  });

  it('leaves the other source account as it was', async () => {
    const b2 = await e.admin(SOURCE_B, SOURCE_B_SECOND_REGION);
    const dbs = (
      await b2.get(RDSClient).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: e.dbB }))
    ).DBInstances;
    expect(dbs?.map((d) => d.DBInstanceIdentifier)).toEqual([e.dbB]);
    expect(day.attempts.filter((a) => a.side === 'source' && a.target.includes(e.dbB))).toEqual([]);
  });
});
