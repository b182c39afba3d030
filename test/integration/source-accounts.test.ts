// Issue 16's topology in the emulator: kura in the backup account (moto's
// default), two source accounts reached only by STS AssumeRole into their
// kura-source role with the ExternalId (one of them in two regions), every
// request evaluated against the deployed policies: kura's function roles in
// the backup account and deploy/source-account.yml in each source account.
import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { operatorClients } from '../../local/iam/principals.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { fromTagList } from '../../shared/domain/tags.ts';
import { parsePolicy } from '../../shared/policy/parse.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { clock, emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { rdsSnapshot } from '../support/functions.ts';
import { requestsOf } from '../support/iam.ts';
import { createDatabase } from '../support/rds.ts';
import { SOURCE_A, SOURCE_B, SOURCE_B_SECOND_REGION, withTwoSources } from '../support/source-accounts.ts';

const REGION = 'ap-northeast-1';
let backup: Clients;
let a: Clients;
let b2: Clients;

beforeAll(async () => {
  backup = emulatorClients();
  a = await operatorClients(SOURCE_A, backup, REGION);
  b2 = await operatorClients(SOURCE_B, backup, SOURCE_B_SECOND_REGION);
});

function twoSourcePolicy(tagValue: string): Policy {
  const p = testPolicy((x) => {
    if (!x.database) throw new Error('reference policy has a database section');
    x.database.copy = undefined;
    x.database.shareWithIsolatedAccount = false;
  });
  return parsePolicy(withTwoSources(p, tagValue), 'two-sources');
}

async function manualSnapshots(c: Clients, db: string) {
  const out = await c
    .get(RDSClient)
    .send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: db, SnapshotType: 'manual' }));
  return (out.DBSnapshots ?? []).map((s) => ({ id: s.DBSnapshotIdentifier, tags: fromTagList(s.TagList) }));
}

const invoke = (time: Date, policy: Policy) => {
  clock.set(time);
  return rdsSnapshot(syntheticScheduledEvent(time), { policy, clients: backup }) as Promise<RunResult>;
};

describe('rds-snapshot with two source accounts', () => {
  it('snapshots the tagged databases in every source account and region through kura-source, naming the account', async () => {
    // Prepare: the same database name in source A (Tokyo) and source B (its second region); one untagged in A.
    const tag = `t-${uniqueSuffix()}`;
    const policy = twoSourcePolicy(tag);
    const db = `shop-${uniqueSuffix()}`;
    const other = `internal-${uniqueSuffix()}`;
    await createDatabase(a, db, { 'kura:backup': tag, env: 'prod' });
    await createDatabase(a, other, { env: 'prod' });
    await createDatabase(b2, db, { 'kura:backup': tag, env: 'prod' });
    const time = new Date('2026-11-20T19:00:00Z');

    // Act
    const { result, requests } = await requestsOf(() => invoke(time, policy));

    // Assess: one outcome per account and region, named so; the untagged one skipped.
    const mine = result.targets.filter((t) => t.target.endsWith(`/${db}`));
    expect(mine.map((t) => [t.target, t.status, t.account, t.region])).toEqual([
      [`${SOURCE_A}/${REGION}/${db}`, 'ok', SOURCE_A, REGION],
      [`${SOURCE_B}/${SOURCE_B_SECOND_REGION}/${db}`, 'ok', SOURCE_B, SOURCE_B_SECOND_REGION],
    ]);
    expect(result.skipped).toContain(`${SOURCE_A}/${REGION}/${other}`);
    const name = `kura-${db}-202611201900`;
    for (const [c, account, region] of [
      [a, SOURCE_A, REGION],
      [b2, SOURCE_B, SOURCE_B_SECOND_REGION],
    ] as const) {
      const snaps = await manualSnapshots(c, db);
      expect(snaps.map((s) => s.id)).toEqual([name]);
      expect(snaps[0]?.tags).toMatchObject({
        'kura:managed': 'true',
        'kura:source': db,
        'kura:source-account': account,
        'kura:source-region': region,
      });
    }
    expect(await manualSnapshots(a, other)).toEqual([]);
    // …each source entered by STS as kura's rds-snapshot role, each snapshot taken as that account's kura-source.
    const assumed = requests.filter((r) => r.operation === 'sts:AssumeRole' && !r.denied);
    expect(assumed.map((r) => r.principal)).toEqual(expect.arrayContaining(['RdsSnapshotRole']));
    const creates = requests.filter((r) => r.operation === 'rds:CreateDBSnapshot');
    expect(creates.map((r) => [r.principal, r.denied])).toEqual([
      [`kura-source (${SOURCE_A})`, false],
      [`kura-source (${SOURCE_B})`, false],
    ]);
    // kura's own role only reads in its own (backup) account: where the copies will be, and its quotas.
    expect(
      requests
        .filter((r) => r.principal === 'RdsSnapshotRole' && r.operation.startsWith('rds:'))
        .filter((r) => !/^rds:Describe/.test(r.operation)),
    ).toEqual([]);
  });
});
