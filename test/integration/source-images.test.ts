// Images with source accounts (issue 16, item 2): ami-backup images the tagged
// servers of two source accounts (one in two regions) through their
// kura-source role, shares each image with the backup account and copies it
// there re-encrypted with the backup account's key; the backup account's
// copies are the recovery points (retention, DR copies, shares, restores);
// the source keeps only images.keepInSource. Every request is evaluated
// against the deployed policies; the emulator keeps AWS's timing (images and
// copies are pending first).
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { asFunction, operatorClients } from '../../local/iam/principals.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { parsePolicy } from '../../shared/policy/parse.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { estatePorts, reportPorts } from '../../shared/edge/report-ports.ts';
import { Ec2ImageAdapter } from '../../shared/aws/ec2-images.ts';
import { sourceClients } from '../../shared/aws/source-clients.ts';
import { accountRows } from '../../shared/domain/reports/inventory.ts';
import { imageInventory } from '../../shared/usecases/image-inventory.ts';
import { buildInventoryReport } from '../../shared/usecases/report-inventory.ts';
import { connectIsolated } from '../../shared/restore/isolated-network.ts';
import {
  createEstate,
  type Estate,
  imagesOf,
  launch,
  launchPermissions,
  snapshotExists,
  testVault,
} from '../support/ec2-fixture.ts';
import { clock, emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { amiBackup, asRestoreItem, asRestorePlan } from '../support/functions.ts';
import { requestsOf } from '../support/iam.ts';
import { SOURCE_A, SOURCE_B, SOURCE_B_SECOND_REGION, withTwoSources } from '../support/source-accounts.ts';
import { ensureIsolatedNetwork } from '../../shared/aws/isolated-network.ts';
import { imageRestoreStep } from '../../shared/edge/restore-steps.ts';

const REGION = 'ap-northeast-1';
const DR = 'ap-southeast-1';
const BACKUP = '123456789012';
let backup: Clients;
let a: Clients;
let b2: Clients;
let estateA: Estate;
let estateB2: Estate;
let bucket: string;
let backupKey: string;
let drKey: string;
let handedOver: { policy: Policy; webA: string; webB: string } | undefined;

/** A KMS key of `clients`' account whose policy admits its own account and `others` (kms:* for brevity). */
async function key(clients: Clients, account: string, others: string[], region?: string): Promise<string> {
  const Statement = [account, ...others].map((acct, i) => ({
    Sid: `Account${i}`,
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${acct}:root` },
    Action: 'kms:*',
    Resource: '*',
  }));
  const k = await clients
    .get(KMSClient, region)
    .send(new CreateKeyCommand({ Policy: JSON.stringify({ Version: '2012-10-17', Statement }) }));
  return k.KeyMetadata?.Arn ?? '';
}

beforeAll(async () => {
  backup = emulatorClients();
  a = await operatorClients(SOURCE_A, backup, REGION);
  b2 = await operatorClients(SOURCE_B, backup, SOURCE_B_SECOND_REGION);
  estateA = await createEstate(a);
  estateB2 = await createEstate(b2);
  bucket = await testVault(backup);
  const isolated = testPolicy().isolatedAccount?.accountId ?? '';
  backupKey = await key(backup, BACKUP, [isolated]);
  drKey = await key(backup, BACKUP, [isolated], DR);
});

function sourcePolicy(tag: string, change: (p: Policy) => void = () => {}): Policy {
  const p = testPolicy((x) => {
    x.vault.bucket = bucket;
    x.images = {
      generations: 3,
      reboot: false,
      copyToDrRegion: true,
      drRegion: DR,
      drKmsKeyId: drKey,
      shareWithIsolatedAccount: true,
      waitSeconds: 0,
      stuckAfterHours: 24,
      keepInSource: 1,
      kmsKeyId: backupKey,
    };
  });
  const two = withTwoSources(p, tag);
  change(two);
  return parsePolicy(two, 'source-images');
}

const day = (n: number) => new Date(Date.UTC(2026, 10, 20, 19, 0) + n * 86_400_000);
const nameAt = (id: string, n: number) =>
  `kura-${id}-${day(n).toISOString().replace(/[-:T]/g, '').slice(0, 12)}`;
const invoke = (n: number, policy: Policy) => {
  clock.set(day(n));
  return amiBackup(syntheticScheduledEvent(day(n)), { policy, clients: backup }) as Promise<RunResult>;
};

describe('ami-backup with two source accounts', () => {
  it('copies every image into the backup account, keeps keepInSource in the source, prunes and copies to DR from the backup copies', async () => {
    // Prepare: a tagged server in source A (Tokyo) and one in source B's second region,
    // B's encrypted with B's own key that admits the backup account.
    const tag = `img-${uniqueSuffix()}`;
    const policy = sourcePolicy(tag);
    const bKey = await key(b2, SOURCE_B, [BACKUP]);
    const webA = await launch(a, estateA, { policy });
    const webB = await launch(b2, estateB2, { policy, kmsKeyId: bKey });
    handedOver = { policy, webA, webB };

    // Act: six daily runs (each finds its own image pending, as on AWS).
    const results: RunResult[] = [];
    const { requests } = await requestsOf(async () => {
      for (let n = 0; n < 6; n++) results.push(await invoke(n, policy));
    });

    // Assess: every run fine, one outcome per server naming its account and region.
    const mine = (r: RunResult) =>
      r.targets.filter((t) => t.target.endsWith(webA) || t.target.endsWith(webB));
    expect(results.flatMap((r) => mine(r).map((t) => t.error?.message ?? t.status))).toEqual(
      Array(12).fill('ok'),
    );
    expect(mine(results[5] as RunResult).map((t) => [t.target, t.account, t.region])).toEqual([
      [`${SOURCE_A}/${REGION}/${webA}`, SOURCE_A, REGION],
      [`${SOURCE_B}/${SOURCE_B_SECOND_REGION}/${webB}`, SOURCE_B, SOURCE_B_SECOND_REGION],
    ]);
    for (const [src, account, region, web] of [
      [a, SOURCE_A, REGION, webA],
      [b2, SOURCE_B, SOURCE_B_SECOND_REGION, webB],
    ] as const) {
      // The source keeps keepInSource (1) finished image, and today's, still pending.
      const left = await imagesOf(src, web);
      expect(left.map((i) => [i.name, i.state])).toEqual([
        [nameAt(web, 4), 'available'],
        [nameAt(web, 5), 'pending'],
      ]);
      // The backup account owns the copies (and their snapshots): days 0-4 were handed over;
      // day 4's copy was made today and is pending: the 3 finished generations stay, day 0 was pruned.
      const copies = await imagesOf(backup, web);
      expect(copies.map((i) => [i.name, i.state])).toEqual([
        [nameAt(web, 1), 'available'],
        [nameAt(web, 2), 'available'],
        [nameAt(web, 3), 'available'],
        [nameAt(web, 4), 'pending'],
      ]);
      const outcomes = results.flatMap((r) => mine(r).filter((t) => t.account === account));
      const pruned = outcomes.flatMap((t) => t.pruned as string[]);
      expect(pruned.filter((x) => x.startsWith(`${REGION}:`))).toHaveLength(1);
      for (const s of outcomes.flatMap((t) => t.deletedSnapshots as string[]))
        expect(await snapshotExists(backup, s)).toBe(false);
      for (const c of copies) {
        expect(c.tags).toMatchObject({
          'kura:managed': 'true',
          'kura:class': 'image',
          'kura:source': web,
          'kura:source-account': account,
          'kura:source-region': region,
        });
        expect(c.tags['kura:copy-of']).toMatch(new RegExp(`^${account}/${region}:ami-`));
        for (const s of c.snapshotIds) expect(await snapshotExists(backup, s)).toBe(true);
      }
      // The source images a copy replaced are gone there, with their snapshots.
      const removed = results.flatMap((r) =>
        mine(r).flatMap((t) => (t.account === account ? (t.removedFromSource as string[]) : [])),
      );
      expect(removed).toHaveLength(4);
      // DR copies are copies of the backup account's copies (not of the source's images).
      const dr = await imagesOf(backup, web, DR);
      expect(dr.length).toBeGreaterThan(0);
      const backupIds = results.flatMap((r) =>
        mine(r)
          .filter((t) => t.account === account)
          .flatMap((t) => (t.backupCopies as string[]).map((x) => x.split(':')[1])),
      );
      for (const d of dr) expect(backupIds).toContain(d.tags['kura:copy-of']?.split(':')[1]);
      // The isolated account is given the backup account's copies.
      const isolated = policy.isolatedAccount?.accountId ?? '';
      const available = copies.filter((c) => c.state === 'available');
      for (const c of available) expect(await launchPermissions(backup, c.id)).toContain(isolated);
    }
    // Who did what: images made, shared and removed in the sources as kura-source; copies
    // made in the backup account by kura's ami-backup role; nothing refused.
    expect(requests.filter((r) => r.denied).map((r) => `${r.principal} ${r.operation}`)).toEqual([]);
    const by = (op: string) => [
      ...new Set(requests.filter((r) => r.operation === op).map((r) => r.principal)),
    ];
    expect(by('ec2:CreateImage').sort()).toEqual([`kura-source (${SOURCE_A})`, `kura-source (${SOURCE_B})`]);
    expect(by('ec2:DeregisterImage')).toEqual(
      expect.arrayContaining([`kura-source (${SOURCE_A})`, `kura-source (${SOURCE_B})`]),
    );
    expect(by('ec2:CopyImage')).toEqual(['AmiBackupRole']);
    // Copying B's images used B's key on the backup account's behalf: its key policy was weighed.
    const onB = requests
      .filter((r) => r.operation === 'ec2:CopyImage')
      .flatMap((r) => r.needs.filter((n) => n.resource === bKey).map((n) => `${n.action} ${n.allowed}`));
    expect(new Set(onB)).toEqual(
      new Set(['kms:DescribeKey true', 'kms:Decrypt true', 'kms:ReEncryptFrom true', 'kms:CreateGrant true']),
    );
  });

  it("restores a server into the isolated account from the backup account's copy, shared by the backup account", async () => {
    // Prepare: the six runs above; a day later every copy is available.
    if (!handedOver) throw new Error('runs only after the hand-over test');
    const { policy, webA } = handedOver;
    clock.set(day(7));
    // As on AWS: the restore machine's plan lists (`restore`), the image function restores.
    const planner = await asRestorePlan({ policy, clients: backup });
    const imageFn = await asRestoreItem('image', { policy, clients: backup });
    const target = await connectIsolated(imageFn);
    target.network = await ensureIsolatedNetwork(target.clients, target.region);
    const copies = await imagesOf(backup, webA);

    // Act
    const [rp] = await imageRestoreStep.list(planner, { source: webA });
    if (!rp) throw new Error('no recovery point');
    const item = await imageRestoreStep.restore(imageFn, target, rp, {
      runId: `r${uniqueSuffix()}`,
      purpose: 'restore',
      pollSeconds: 0,
    });

    // Assess: the newest backup-account copy, from source A, launched in the isolated account.
    expect(rp.id).toBe(copies.at(-1)?.id);
    expect(rp.details).toMatchObject({ sourceAccount: SOURCE_A, sourceRegion: REGION });
    expect(await launchPermissions(backup, rp.id)).toContain(target.accountId);
    const [res] = item.resources;
    expect(res).toMatchObject({ type: 'AWS::EC2::Instance', account: target.accountId });
    const r = await target.clients
      .get(EC2Client)
      .send(new DescribeInstancesCommand({ InstanceIds: [res?.id ?? ''] }));
    expect(r.Reservations?.[0]?.Instances?.[0]?.ImageId).toBe(rp.id);
    // A request naming another source account for this server is refused, naming the one that holds it.
    await expect(imageRestoreStep.list(planner, { source: webA, account: SOURCE_B })).rejects.toThrow(
      new RegExp(`no recovery point of ${webA} comes from account ${SOURCE_B}; expected one of ${SOURCE_A}`),
    );
    await imageRestoreStep.cleanup(target, item.resources);
  });

  it('inventories the images per source account and region, showing where each copy lives', async () => {
    // Prepare: the six runs above.
    if (!handedOver) throw new Error('runs only after the hand-over test');
    const { policy, webA, webB } = handedOver;
    const deps = { policy, clients: backup };
    clock.set(day(7));

    // Act: the image inventory as ami-backup's role (it may enter the sources), and the
    // whole report as kura's operator, whom the kura-source roles do not trust.
    const fn = await asFunction('ami-backup', deps);
    const sources = sourceClients(fn.clients, policy);
    const points = await imageInventory(deps, {
      ...estatePorts(fn),
      sourceImages: sources.targets.map((target) => ({
        target,
        images: new Ec2ImageAdapter(sources.clientsFor(target)),
      })),
    });
    const report = await buildInventoryReport(deps, reportPorts(deps), { at: day(7), days: 7 });

    // Assess: per account and region, the backup account's copies, their DR copies, and the
    // keepInSource image left in the source (today's is still pending there).
    const rows = accountRows(points.filter((p) => p.source === webA || p.source === webB));
    expect(rows.map((r) => [r.account, r.region, r.class, r.sources, r.backup, r.source])).toEqual([
      [SOURCE_A, REGION, 'image', 1, 4, 2],
      [SOURCE_B, SOURCE_B_SECOND_REGION, 'image', 1, 4, 2],
    ]);
    for (const r of rows) expect(r.dr).toBeGreaterThan(0);
    // The operator's report: the same accounts from the backup account's copies, and a note
    // that says the sources were not read.
    const mine = report.accounts?.filter((r) => r.class === 'image' && r.source === 0);
    expect(mine?.map((r) => `${r.account}/${r.region}`)).toEqual(
      expect.arrayContaining([`${SOURCE_A}/${REGION}`, `${SOURCE_B}/${SOURCE_B_SECOND_REGION}`]),
    );
    expect(report.notes.join('\n')).toContain(
      'images left in the source accounts (images.keepInSource) are not listed',
    );
    const ofA = report.points.filter((p) => p.source === webA);
    expect(new Set(ofA.map((p) => `${p.account} ${p.sourceRegion} ${p.location}`))).toEqual(
      new Set([`${SOURCE_A} ${REGION} backup`, `${SOURCE_A} ${REGION} dr`]),
    );
  });

  it('refuses to hand over an image whose key does not admit the backup account, naming the key, and shares nothing', async () => {
    // Prepare: a server of source B encrypted with a key only B may use.
    const tag = `img-${uniqueSuffix()}`;
    const policy = sourcePolicy(tag);
    const closed = await key(b2, SOURCE_B, []);
    const web = await launch(b2, estateB2, { policy, kmsKeyId: closed });

    // Act: two runs (the first image is available by the second).
    await invoke(10, policy);
    const result = await invoke(11, policy);

    // Assess: a named error for that server; its image stays in the source, unshared, uncopied.
    const t = result.targets.find((x) => x.target.endsWith(web));
    expect(t?.status).toBe('failed');
    expect(t?.error?.name).toBe('ImageKeyNotShareableError');
    expect(t?.error?.message).toContain(closed);
    expect(t?.error?.message).toContain(BACKUP);
    const left = await imagesOf(b2, web);
    expect(left.map((i) => i.name)).toEqual([nameAt(web, 10), nameAt(web, 11)]);
    expect(await launchPermissions(b2, left[0]?.id ?? '')).toEqual([]);
    expect(await imagesOf(backup, web)).toEqual([]);
  });

  it('refuses a policy that keeps more images in the source than it keeps generations', () => {
    expect(() =>
      sourcePolicy('x', (p) => {
        if (p.images) p.images.keepInSource = 4;
      }),
    ).toThrow(/images\.keepInSource.*expected at most images\.generations/s);
  });

  it('refuses a run with sources but no backup key for the copies, before any image is taken', async () => {
    // Prepare
    const tag = `img-${uniqueSuffix()}`;
    const policy = sourcePolicy(tag, (p) => {
      if (p.images) p.images.kmsKeyId = undefined;
    });
    const web = await launch(a, estateA, { policy });

    // Act
    const run = invoke(20, policy);

    // Assess
    await expect(run).rejects.toThrow(/images\.kmsKeyId: missing; expected the backup account's KMS key/);
    expect(await imagesOf(a, web)).toEqual([]);
  });
});
