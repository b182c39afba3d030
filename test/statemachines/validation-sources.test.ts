// Issue 17, item 4: the monthly validation and the yearly rehearsal with two
// source accounts, one of them in two regions, where every source holds a
// database of the same name. Each is planned as its own item, keyed by
// (account, source region, name), restored side by side in the isolated
// account from its own account's copy in the backup account, checked, cleaned
// up, and shown with its account and region in the run's one report, with
// its PITR RPO read from its own account's database in its source region (one
// namesake has automated backups off: its RPO is unknown, the others' are
// not, so a read from the wrong account or region shows). The
// schedule's times lie ahead of the wall clock: the restore machine's Plan
// takes the run's time from the execution ($$.Execution.StartTime, on the
// simulated clock locally), so a rehearsal "at" such a time is not "in the future".
import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFunction, operatorClients } from '../../local/iam/principals.ts';
import { runRestoreLocally } from '../../local/restore.ts';
import { runStateMachine } from '../../local/state-machine-runner.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { VaultStore } from '../../shared/aws/vault-objects.ts';
import { rehearsalRequest } from '../../shared/domain/schedules.ts';
import { fromTagList, TAG } from '../../shared/domain/tags.ts';
import { renderMarkdown, type ValidationReport } from '../../shared/domain/validation-report.ts';
import { stamp } from '../../shared/policy/calendar.ts';
import { parsePolicy } from '../../shared/policy/parse.ts';
import { connectIsolated } from '../../shared/restore/isolated-network.ts';
import { listManagedInIsolated } from '../../shared/aws/isolated-leftovers.ts';
import type { RestorePlan } from '../../shared/restore/plan.ts';
import { rehearsalId } from '../../shared/restore/request.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { reportKey } from '../../shared/usecases/validation.ts';
import { clock, emulatorClients, uniqueSuffix } from '../support/emulator.ts';
import { rdsSnapshot } from '../support/functions.ts';
import { createDatabase } from '../support/rds.ts';
import {
  customerKey,
  SOURCE_A,
  SOURCE_B,
  SOURCE_B_SECOND_REGION,
  withTwoSources,
} from '../support/source-accounts.ts';
import { validationDeps, validationPolicy } from '../support/validation-fixture.ts';

/**
 * The policy's region, used by no other test file: with sources, every kura-managed copy in
 * the backup account's region is kura's to validate, and other files' copies from the same
 * source accounts live in ap-northeast-1 of the same backup account.
 */
const REGION = 'eu-central-1';
const BACKUP = '123456789012';
const DAY = 86_400_000;
/** 04:00 Tokyo, two days after today's (wall clock) date: the whole file runs ahead of the wall clock. */
const today = new Date();
const day0 = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 2, 19, 0));
const addDays = (d: Date, n: number) => new Date(d.getTime() + n * DAY);
const ORIGINS = [
  [SOURCE_A, REGION],
  [SOURCE_B, REGION],
  [SOURCE_B, SOURCE_B_SECOND_REGION],
] as const;
/** The one namesake with automated backups off (no LatestRestorableTime): between the other two. */
const pitrOff = (account: string, region: string) => account === SOURCE_B && region === REGION;

let deps: Deps;
let db: string;

async function reportOf(runId: string): Promise<ValidationReport> {
  const body = await new VaultStore(deps.clients, deps.policy).getText(reportKey(deps.policy, runId));
  if (!body) throw new Error(`no report for ${runId}`);
  return JSON.parse(body) as ValidationReport;
}

async function leftInIsolated(runId: string): Promise<string[]> {
  const target = await connectIsolated(await asFunction('validation-step', deps));
  return (await listManagedInIsolated(target, runId)).map((l) => `${l.type} ${l.id} ${l.state ?? ''}`);
}

/** What each report item says of where it came from and what it restored from. */
const origins = (r: ValidationReport) =>
  r.items
    .filter((i) => i.class === 'database')
    .map((i) => [i.source, i.account, i.sourceRegion, i.recoveryPoint?.id, i.status])
    .sort((x, y) => `${x[1]}${x[2]}`.localeCompare(`${y[1]}${y[2]}`));

/** Each database item's PITR RPO as its report judges it: account, region, minutes, result. */
const pitrRpos = (r: ValidationReport) =>
  r.items
    .filter((i) => i.class === 'database')
    .map((i) => {
      const o = i.objectives?.find((x) => x.objective === 'RPO' && x.basis.startsWith('point-in-time'));
      return [i.account, i.sourceRegion, o?.achievedMinutes, o?.targetMinutes, o?.status];
    })
    .sort((x, y) => `${x[0]}${x[1]}`.localeCompare(`${y[0]}${y[1]}`));

/** What pitrRpos should say: `minutes` for each database with PITR, unknown for the one without. */
const expectedPitr = (minutes: number) =>
  ORIGINS.map(([account, region]) =>
    pitrOff(account, region)
      ? [account, region, undefined, 5, 'unknown']
      : [account, region, minutes, 5, 'pass'],
  );

/** The backup account's copy of day `d` from one source account and region (rds-snapshot's name). */
const copyOf = (d: number, account: string, region: string) =>
  `kura-${db}-${stamp(addDays(day0, d))}-${account}-${region}`;

beforeAll(async () => {
  // Prepare: the backup account (moto's default), a key there the isolated account may use,
  // and a database of one name in each source account and region, each under its own key.
  const backup: Clients = emulatorClients(REGION);
  const sfx = uniqueSuffix();
  const backupKey = `alias/kura-val-src-${sfx}`;
  const p = validationPolicy((x) => {
    if (!x.database) throw new Error('reference policy has a database section');
    x.database.kmsKeyId = backupKey;
    x.region = REGION;
    if (x.isolatedAccount) x.isolatedAccount.region = REGION;
    x.vault.bucket = `kura-vault-valsrc-${sfx}`;
  });
  const isolated = p.isolatedAccount?.accountId ?? '';
  await customerKey(backup, BACKUP, [isolated], backupKey);
  const policy = parsePolicy(withTwoSources(p, `t-${sfx}`), 'two-sources');
  deps = await validationDeps(policy);
  db = `shop-${sfx}`;
  for (const [account, region] of ORIGINS) {
    const c = await operatorClients(account, backup, region);
    const key = await customerKey(c, account, [BACKUP]);
    await createDatabase(
      c,
      db,
      { 'kura:backup': policy.selector.tagValue },
      {
        StorageEncrypted: true,
        KmsKeyId: key,
        ...(pitrOff(account, region) ? { BackupRetentionPeriod: 0 } : {}),
      },
    );
  }
  // Three daily runs: each copies the day before's source snapshot into the backup account.
  for (let d = 0; d < 3; d++) {
    const t = addDays(day0, d);
    clock.set(t);
    const r = await rdsSnapshot(syntheticScheduledEvent(t), deps);
    expect(r.targets.filter((x) => x.status !== 'ok').map((x) => x.error)).toEqual([]);
  }
}, 300_000);

describe('validation and rehearsal with two source accounts that share a database name', () => {
  it('the monthly validation restores, checks and cleans up each one from its own copy, and reports them per account', async () => {
    // Act: the validation a few hours after the last backup run
    const time = new Date(addDays(day0, 2).getTime() + 5 * 3600_000);
    clock.set(time);
    const out = await runStateMachine('validation', { time: time.toISOString() }, { deps });

    // Assess: one item per account and region, each restored from its own account's copy.
    expect(out.status, `${out.error}: ${out.cause}`).toBe('SUCCEEDED');
    const report = await reportOf(stamp(time));
    expect(report.verdict, report.problems.join('; ')).toBe('PASS');
    expect(origins(report)).toEqual(
      ORIGINS.map(([account, region]) => [db, account, region, copyOf(1, account, region), 'pass']),
    );
    // Side by side in the isolated account: one distinct name per origin, within RDS's 63.
    const restored = report.items.flatMap((i) =>
      i.cleanup.resources.filter((r) => r.startsWith('AWS::RDS::DBInstance ')),
    );
    expect(new Set(restored).size).toBe(3);
    // Each PITR RPO from its own database, read at the run (5 min: RDS's log upload interval).
    expect(pitrRpos(report)).toEqual(expectedPitr(5));
    for (const r of restored) expect(r.split(' ')[1]?.length).toBeLessThanOrEqual(63);
    for (const i of report.items) expect(i.cleanup.status).toBe('done');
    expect(report.accounts).toEqual([
      { account: SOURCE_A, regions: [REGION], items: 1, passed: 1, failed: 0, skipped: 0 },
      {
        account: SOURCE_B,
        regions: [REGION, SOURCE_B_SECOND_REGION].sort(),
        items: 2,
        passed: 1 + 1,
        failed: 0,
        skipped: 0,
      },
    ]);
    // The report a person reads names each item's account and region.
    expect(renderMarkdown(report)).toContain(
      `| database | ${db} | ${SOURCE_B} | ${SOURCE_B_SECOND_REGION} | ${copyOf(1, SOURCE_B, SOURCE_B_SECOND_REGION)} |`,
    );
    // Each passed copy is the one tagged kura:validated, not a namesake's.
    const copies = await deps.clients
      .get(RDSClient)
      .send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: db, SnapshotType: 'manual' }));
    const validated = (copies.DBSnapshots ?? [])
      .filter((s) => fromTagList(s.TagList)[TAG.validated] === time.toISOString())
      .map((s) => s.DBSnapshotIdentifier)
      .sort();
    expect(validated).toEqual(ORIGINS.map(([a, r]) => copyOf(1, a, r)).sort());
    expect(report.leftovers).toEqual([]);
    expect(await leftInIsolated(report.runId)).toEqual([]);
  });

  it('the yearly rehearsal restores every one at its time ahead of the wall clock, and chains one report naming each account', async () => {
    // Prepare: the schedule fires on the simulated clock, a day after the validation
    const at = addDays(day0, 3);
    const started = new Date(at.getTime() + 60_000);
    clock.set(started);

    // Act
    const out = await runRestoreLocally(rehearsalRequest(at.toISOString()), { deps });

    // Assess: planned at the execution's start on the simulated clock (not the function's wall clock)
    expect(out.status, `${out.error}: ${out.cause}`).toBe('SUCCEEDED');
    const runId = rehearsalId(at);
    const plan = await new S3RestoreStore(deps.clients, deps.policy.vault.bucket).get<RestorePlan>(
      runId,
      'plan.json',
    );
    expect(plan?.createdAt).toBe(started.toISOString());
    // One item per origin, distinct keys, each restored from its own account's newest copy
    // (day 1's: day 2's source snapshot is copied by the next day's run, which has not come).
    expect(new Set(plan?.items.map((i) => i.key)).size).toBe(3);
    const report = await reportOf(runId);
    expect(report.verdict, report.problems.join('; ')).toBe('PASS');
    expect(origins(report)).toEqual(
      ORIGINS.map(([account, region]) => [db, account, region, copyOf(1, account, region), 'pass']),
    );
    // Read at the plan (a minute after `at`, on the simulated clock: 5 min behind it), from each
    // one's own account and region, and measured from the rehearsal's time `at`: 4 min.
    expect(pitrRpos(report)).toEqual(expectedPitr(4));
    expect(report.accounts?.map((a) => [a.account, a.items, a.passed])).toEqual([
      [SOURCE_A, 1, 1],
      [SOURCE_B, 2, 2],
    ]);
    expect(report.leftovers).toEqual([]);
    expect(await leftInIsolated(runId)).toEqual([]);
  });
});
