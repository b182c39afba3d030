// ami-backup DR copies and sharing with the isolated account, against the
// emulator with AWS's timing: an image is copied and shared by the run after
// the one that took it, once AWS has finished it.
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { amiBackup as run } from '../support/functions.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import {
  createEstate,
  type Estate,
  imagePolicy,
  imagesOf,
  launch,
  launchPermissions,
  snapshotTags,
  testVault,
  volumePermissions,
} from '../support/ec2-fixture.ts';
import { clock, emulatorClients } from '../support/emulator.ts';

const ISOLATED = '210987654321';
const DR = 'ap-southeast-1';
let clients: Clients;
let estate: Estate;
let bucket: string;

beforeAll(async () => {
  clients = emulatorClients();
  estate = await createEstate(clients);
  bucket = await testVault(clients);
});

const policyFor = (overrides: (p: Policy) => void = () => {}) =>
  imagePolicy(bucket, (p) => {
    p.images = {
      generations: 2,
      reboot: false,
      copyToDrRegion: true,
      drRegion: DR,
      shareWithIsolatedAccount: true,
      waitSeconds: 0,
      stuckAfterHours: 24,
      keepInSource: 1,
    };
    overrides(p);
  });
const invoke = (time: Date, policy: Policy) => {
  clock.set(time);
  return run(syntheticScheduledEvent(time), { policy, clients }) as Promise<RunResult>;
};
const nameAt = (web: string, w: number) =>
  `kura-${web}-${week(w).toISOString().replace(/[-:T]/g, '').slice(0, 12)}`;
const week = (n: number) => new Date(Date.UTC(2026, 8, 5, 19, 0) + n * 7 * 86_400_000);

async function customerKey(allowIsolated: boolean): Promise<string> {
  const statements = [
    {
      Sid: 'Owner',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::123456789012:root' },
      Action: 'kms:*',
      Resource: '*',
    },
  ];
  if (allowIsolated) {
    statements.push({
      Sid: 'Isolated',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ISOLATED}:root` },
      Action: 'kms:Decrypt',
      Resource: '*',
    });
  }
  const k = await clients
    .get(KMSClient)
    .send(new CreateKeyCommand({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));
  return k.KeyMetadata?.Arn ?? '';
}

describe('ami-backup DR copies and sharing', () => {
  it('converges under AWS timing: six weekly runs copy and share every image the run after it was taken', async () => {
    // Prepare: the reference policy's 8 generations, DR copy and sharing.
    const policy = policyFor((p) => {
      if (p.images) p.images.generations = 8;
    });
    const web = await launch(clients, estate, { policy });

    // Act: six scheduled weeks; each run finds its own image pending, as on AWS.
    const results: RunResult[] = [];
    for (let w = 0; w < 6; w++) results.push(await invoke(week(w), policy));

    // Assess
    expect(results.map((r) => r.ok)).toEqual(Array(6).fill(true));
    expect(results.flatMap((r) => r.targets.flatMap((t) => t.warnings))).toEqual([]);
    const source = await imagesOf(clients, web);
    expect(source.map((i) => i.state)).toEqual([...Array(5).fill('available'), 'pending']);
    const finished = [0, 1, 2, 3, 4].map((w) => nameAt(web, w));
    expect((await imagesOf(clients, web, DR)).map((c) => c.name)).toEqual(finished);
    for (const img of source.slice(0, 5))
      expect(await launchPermissions(clients, img.id)).toEqual([ISOLATED]);
    expect(await launchPermissions(clients, source[5]?.id ?? '')).toEqual([]);
    // Week w's image is copied and shared by the run of week w + 1.
    expect(results.map((r) => (r.targets[0]?.copied as string[]).length)).toEqual([0, 1, 1, 1, 1, 1]);
    expect(results.map((r) => (r.targets[0]?.shared as string[]).length)).toEqual([0, 1, 1, 1, 1, 1]);
  });

  it('copies each kept image to the DR region with kura tags and prunes the copies by the same generations', async () => {
    const policy = policyFor();
    const web = await launch(clients, estate, { policy });

    const results: RunResult[] = [];
    for (let w = 0; w < 5; w++) results.push(await invoke(week(w), policy));

    expect(results.every((r) => r.ok)).toBe(true);
    // Source: two available generations and this week's pending one; DR: copies of the
    // images that were kept when each run copied, pruned to two available ones plus the newest.
    const source = await imagesOf(clients, web);
    expect(source.map((s) => s.name)).toEqual([2, 3, 4].map((w) => nameAt(web, w)));
    const copies = await imagesOf(clients, web, DR);
    expect(copies.map((c) => c.name)).toEqual([1, 2, 3].map((w) => nameAt(web, w)));
    const copy = copies.find((c) => c.name === source[0]?.name);
    expect(copy?.tags).toMatchObject({
      'kura:managed': 'true',
      'kura:class': 'image',
      'kura:source': web,
      'kura:copy-of': `ap-northeast-1:${source[0]?.id}`,
    });
    expect(await snapshotTags(clients, copy?.snapshotIds[0] ?? '', DR)).toMatchObject({
      'kura:managed': 'true',
      'kura:source': web,
    });
    expect(results[4]?.targets[0]?.actions).toContainEqual(
      expect.stringMatching(new RegExp(`^pruned kura-${web}-\\d{12} \\(ami-\\w+\\) in ${DR}`)),
    );
  });

  it('shares each kept image and its snapshots with the isolated account, once', async () => {
    const policy = policyFor((p) => {
      if (p.images) p.images.copyToDrRegion = false;
    });
    const web = await launch(clients, estate, { policy });

    const first = await invoke(week(0), policy);
    const second = await invoke(week(1), policy);
    const third = await invoke(week(2), policy);

    const [older, newer] = await imagesOf(clients, web);
    expect(await launchPermissions(clients, older?.id ?? '')).toEqual([ISOLATED]);
    expect(await launchPermissions(clients, newer?.id ?? '')).toEqual([ISOLATED]);
    expect(await volumePermissions(clients, newer?.snapshotIds[0] ?? '')).toEqual([ISOLATED]);
    // A pending image cannot be shared (AWS refuses it): each is shared by the next run, once.
    expect(first.targets[0]?.shared).toEqual([]);
    expect(second.targets[0]?.shared).toEqual([older?.id]);
    expect(third.targets[0]?.shared).toEqual([newer?.id]);
  });

  it('names the KMS key that blocks sharing and shares nothing, but keeps the image', async () => {
    const policy = policyFor((p) => {
      if (p.images) p.images.copyToDrRegion = false;
    });
    const key = await customerKey(false);
    const web = await launch(clients, estate, { policy, kmsKeyId: key });

    const result = await invoke(week(0), policy);

    const outcome = result.targets[0];
    expect(result.ok).toBe(false);
    expect(outcome?.error?.message).toContain(`KMS key ${key} does not allow account ${ISOLATED}`);
    expect(outcome?.error?.message).toContain('nothing was shared');
    const [img] = await imagesOf(clients, web);
    expect(img?.state).toBe('pending');
    expect(await launchPermissions(clients, img?.id ?? '')).toEqual([]);
  });

  it('shares an image whose customer-managed key allows the isolated account', async () => {
    const policy = policyFor((p) => {
      if (p.images) p.images.copyToDrRegion = false;
    });
    const web = await launch(clients, estate, { policy, kmsKeyId: await customerKey(true) });

    await invoke(week(0), policy);
    const result = await invoke(week(1), policy);

    expect(result.ok).toBe(true);
    const [img] = await imagesOf(clients, web);
    expect(await launchPermissions(clients, img?.id ?? '')).toEqual([ISOLATED]);
  });

  it('refuses a DR copy without a region before anything is taken', async () => {
    const policy = policyFor((p) => {
      if (p.images) p.images.drRegion = undefined;
      p.database = undefined;
    });
    const web = await launch(clients, estate, { policy });

    await expect(invoke(week(0), policy)).rejects.toThrow(
      /images.copyToDrRegion: true but no region is known/,
    );
    expect(await imagesOf(clients, web)).toEqual([]);
  });
});
