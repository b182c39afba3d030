// ami-backup DR copies and sharing with the isolated account against moto.
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
import { emulatorClients } from '../support/emulator.ts';

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
    };
    overrides(p);
  });
const invoke = (time: Date, policy: Policy) =>
  run(syntheticScheduledEvent(time), { policy, clients }) as Promise<RunResult>;
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
  it('copies each kept image to the DR region with kura tags and prunes the copies by the same generations', async () => {
    const policy = policyFor();
    const web = await launch(clients, estate, { policy });

    const results: RunResult[] = [];
    for (let w = 0; w < 3; w++) results.push(await invoke(week(w), policy));

    expect(results.every((r) => r.ok)).toBe(true);
    const source = await imagesOf(clients, web);
    const copies = await imagesOf(clients, web, DR);
    expect(copies.map((c) => c.name)).toEqual(source.map((s) => s.name));
    expect(copies).toHaveLength(2);
    const [copy] = copies;
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
    expect(results[2]?.targets[0]?.actions).toContainEqual(
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

    const [older, newer] = await imagesOf(clients, web);
    expect(await launchPermissions(clients, older?.id ?? '')).toEqual([ISOLATED]);
    expect(await launchPermissions(clients, newer?.id ?? '')).toEqual([ISOLATED]);
    expect(await volumePermissions(clients, newer?.snapshotIds[0] ?? '')).toEqual([ISOLATED]);
    expect(first.targets[0]?.shared).toEqual([older?.id]);
    expect(second.targets[0]?.shared).toEqual([newer?.id]);
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
    expect(img?.state).toBe('available');
    expect(await launchPermissions(clients, img?.id ?? '')).toEqual([]);
  });

  it('shares an image whose customer-managed key allows the isolated account', async () => {
    const policy = policyFor((p) => {
      if (p.images) p.images.copyToDrRegion = false;
    });
    const web = await launch(clients, estate, { policy, kmsKeyId: await customerKey(true) });

    const result = await invoke(week(0), policy);

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
