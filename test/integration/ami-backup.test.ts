// ami-backup against the emulator with AWS's timing (a new image is pending
// for half an hour, so each run finds its own image pending and the next one
// prunes, copies and shares it): schedule and pruning, replay, lookalikes,
// images in use, failed images (injected by wrapping the EC2 adapter), pending
// ones, on-demand images with a reason.
import { CreateLaunchTemplateCommand, EC2Client } from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { amiBackup as run } from '../support/functions.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { S3RecordStore } from '../../shared/aws/config-records.ts';
import { Ec2ImageAdapter, type MachineImage } from '../../shared/aws/ec2-images.ts';
import { KmsAdapter } from '../../shared/aws/kms.ts';
import { configRecordKey } from '../../shared/domain/config-record.ts';
import { occurrences } from '../../shared/domain/schedule-occurrences.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { type AmiBackupPorts, amiBackup } from '../../shared/usecases/ami-backup.ts';
import {
  createEstate,
  type Estate,
  imagePolicy,
  imagesOf,
  launch,
  operatorImage,
  snapshotExists,
  snapshotTags,
  testVault,
} from '../support/ec2-fixture.ts';
import { clock, emulatorClients, uniqueSuffix } from '../support/emulator.ts';

let clients: Clients;
let estate: Estate;
let bucket: string;

beforeAll(async () => {
  clients = emulatorClients();
  estate = await createEstate(clients);
  bucket = await testVault(clients);
});

const policyFor = (overrides: (p: Policy) => void = () => {}) => imagePolicy(bucket, overrides);
/** A run at `time`, with the emulator's clock at that time as on AWS. */
const invoke = (time: Date, policy: Policy, detail: Record<string, unknown> = {}) => {
  clock.set(time);
  return run(syntheticScheduledEvent(time, detail), { policy, clients }) as Promise<RunResult>;
};
const week = (n: number) => new Date(Date.UTC(2026, 8, 5, 19, 0) + n * 7 * 86_400_000); // Sundays 04:00 Asia/Tokyo

/** Ports over moto, with the image states a test wants to see instead of moto's instant `available`. */
function portsReporting(
  policy: Policy,
  state: (img: MachineImage) => Partial<MachineImage> | undefined,
): AmiBackupPorts {
  class Reporting extends Ec2ImageAdapter {
    override async createImage(...args: Parameters<Ec2ImageAdapter['createImage']>) {
      const img = await super.createImage(...args);
      return { ...img, state: 'pending' };
    }
    override async waitForImage(id: string, deadline: number, region?: string) {
      const img = await super.waitForImage(id, deadline, region);
      return img && { ...img, ...state(img) };
    }
  }
  return {
    images: new Reporting(clients),
    keys: new KmsAdapter(clients),
    records: new S3RecordStore(clients, policy.vault.bucket),
    clock: () => clients.timer.now(),
  };
}

describe('ami-backup', () => {
  it('keeps the policy generations per instance when the weekly schedule runs over many weeks', async () => {
    // Prepare
    const policy = policyFor((p) => {
      if (p.images) p.images.generations = 3;
    });
    const web = await launch(clients, estate, { policy });
    const times = occurrences(policy.schedules['ami-backup'] ?? '', policy.timezone, week(0), week(8));
    expect(times).toHaveLength(8);

    // Act
    const counts: number[] = [];
    const results: RunResult[] = [];
    for (const t of times) {
      results.push(await invoke(t, policy));
      counts.push((await imagesOf(clients, web)).length);
    }

    // Assess
    // Three available generations, plus each run's own image while AWS still makes it.
    expect(results.every((r) => r.ok)).toBe(true);
    expect(counts).toEqual([1, 2, 3, 4, 4, 4, 4, 4]);
    const kept = await imagesOf(clients, web);
    expect(kept.map((i) => i.name)).toEqual(
      times.slice(-4).map((t) => `kura-${web}-${t.toISOString().replace(/[-:T]/g, '').slice(0, 12)}`),
    );
    expect(kept.map((i) => i.state)).toEqual(['available', 'available', 'available', 'pending']);
    const pruned = results.flatMap((r) => r.targets.flatMap((t) => t.pruned as string[]));
    expect(pruned).toHaveLength(4);
    expect(results[7]?.targets[0]?.actions.some((a) => a.includes('beyond 3 generations'))).toBe(true);
  });

  it('deletes an image and its snapshots together when it is pruned, though EC2 holds them (InvalidSnapshot.InUse) a moment after DeregisterImage', async () => {
    const policy = policyFor((p) => {
      if (p.images) p.images.generations = 2;
    });
    const web = await launch(clients, estate, { policy });
    await invoke(week(0), policy);
    const [first] = await imagesOf(clients, web);
    if (!first) throw new Error('no first image');
    expect(first.snapshotIds).toHaveLength(1);
    expect(await snapshotTags(clients, first.snapshotIds[0] ?? '')).toMatchObject({
      'kura:managed': 'true',
      'kura:class': 'image',
      'kura:source': web,
    });

    await invoke(week(1), policy);
    await invoke(week(2), policy);
    // Week 3: weeks 0 to 2 are available, one more than the 2 generations.
    const result = await invoke(week(3), policy);

    const outcome = result.targets[0];
    expect(outcome?.pruned).toEqual([`ap-northeast-1:${first.id}`]);
    expect(outcome?.deletedSnapshots).toEqual(first.snapshotIds);
    expect((await imagesOf(clients, web)).map((i) => i.id)).not.toContain(first.id);
    expect(await snapshotExists(clients, first.snapshotIds[0] ?? '')).toBe(false);
  });

  it('keeps an image beyond the generations when a launch template still references it', async () => {
    const policy = policyFor((p) => {
      if (p.images) p.images.generations = 2;
    });
    const web = await launch(clients, estate, { policy });
    await invoke(week(0), policy);
    const [first] = await imagesOf(clients, web);
    const lt = `web-lt-${uniqueSuffix()}`;
    await clients.get(EC2Client).send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: lt,
        LaunchTemplateData: { ImageId: first?.id, InstanceType: 't3.micro' },
      }),
    );

    const results: RunResult[] = [];
    for (let w = 1; w <= 4; w++) results.push(await invoke(week(w), policy));

    const names = (await imagesOf(clients, web)).map((i) => i.id);
    expect(names).toContain(first?.id);
    expect(names).toHaveLength(4); // the newest two available, the one in use, this week's pending one
    expect(results.at(-1)?.targets[0]?.actions).toContainEqual(
      expect.stringContaining(`referenced by launch template ${lt} version 1`),
    );
    expect(results.flatMap((r) => r.targets.flatMap((t) => t.pruned as string[]))).toHaveLength(1);
  });

  it('never touches a lookalike image kura does not manage, whatever its name and tags', async () => {
    const policy = policyFor((p) => {
      if (p.images) p.images.generations = 2;
    });
    const web = await launch(clients, estate, { policy });
    const sameName = await operatorImage(clients, web, `kura-${web}-200001010000`);
    const sameTags = await operatorImage(clients, web, `golden-${web}`, {
      'kura:class': 'image',
      'kura:source': web,
      'kura:time': '2000-01-01T00:00:00.000Z',
    });

    for (let w = 0; w < 4; w++) await invoke(week(w), policy);

    const ids = (await imagesOf(clients, web)).map((i) => i.id);
    expect(ids).toContain(sameName);
    expect(ids).toContain(sameTags);
    expect(ids).toHaveLength(5); // the two lookalikes, two kura generations and this week's pending image
  });

  it('takes nothing new when the same event is replayed', async () => {
    const policy = policyFor();
    const web = await launch(clients, estate, { policy });
    const first = await invoke(week(0), policy);

    const replay = await invoke(week(0), policy);

    expect(replay.ok).toBe(true);
    expect(replay.targets[0]?.actions[0]).toContain('already exists (replayed event): nothing new taken');
    expect(replay.targets[0]?.imageId).toBe(first.targets[0]?.imageId);
    expect(replay.metrics.find((m) => m.name === 'ImagesCreated')).toBeUndefined();
    expect(await imagesOf(clients, web)).toHaveLength(1);
  });

  it("refuses to adopt an image with kura's name that kura did not make", async () => {
    const policy = policyFor();
    const web = await launch(clients, estate, { policy });
    await operatorImage(clients, web, `kura-${web}-202609051900`);

    const result = await invoke(week(0), policy);

    expect(result.ok).toBe(false);
    expect(result.targets[0]?.error?.message).toContain('exists but is not kura-managed');
    expect(await imagesOf(clients, web)).toHaveLength(1);
  });

  it('reports a failed image and removes it with its snapshots', async () => {
    const policy = policyFor();
    const web = await launch(clients, estate, { policy });
    const ports = portsReporting(policy, () => ({
      state: 'failed',
      stateReason: 'Client.InternalError: injected',
    }));

    const result = await amiBackup({ now: week(0) }, policy, ports);

    const outcome = result.targets[0];
    expect(result.ok).toBe(false);
    expect(outcome?.status).toBe('failed');
    expect(outcome?.error?.name).toBe('RecoveryPointFailedError');
    expect(outcome?.error?.message).toMatch(/is failed: Client.InternalError: injected; it was cleaned up/);
    expect(outcome?.actions).toContainEqual(
      expect.stringMatching(/^cleaned up failed image kura-i-.* deregistered, deleted snapshot\(s\) snap-/),
    );
    expect(await imagesOf(clients, web)).toEqual([]);
    const deleted = (outcome?.deletedSnapshots ?? []) as string[];
    expect(deleted).toHaveLength(1);
    for (const s of deleted) expect(await snapshotExists(clients, s)).toBe(false);
    expect(result.metrics).toContainEqual(expect.objectContaining({ name: 'ImagesFailed', value: 1 }));
  });

  it('prunes nothing while the new image is pending, and catches up on the next run', async () => {
    const policy = policyFor((p) => {
      if (p.images) p.images.generations = 2;
    });
    const web = await launch(clients, estate, { policy });
    for (let w = 0; w < 2; w++) await invoke(week(w), policy);

    // Week 2: two available generations and the new one pending (AWS takes half an hour).
    const pending = await invoke(week(2), policy);
    const afterPending = await imagesOf(clients, web);
    const next = await invoke(week(3), policy);

    expect(pending.ok).toBe(true);
    expect(pending.targets[0]?.warnings).toEqual([]);
    expect(pending.targets[0]?.actions).toContainEqual(
      expect.stringContaining(
        'is still pending after the wait budget: its DR copy and share follow in the next run',
      ),
    );
    expect(pending.metrics).toContainEqual(expect.objectContaining({ name: 'ImagesPending', value: 1 }));
    expect(pending.targets[0]?.pruned).toEqual([]);
    expect(afterPending).toHaveLength(3);
    expect(next.targets[0]?.pruned).toHaveLength(1);
    expect(await imagesOf(clients, web)).toHaveLength(3);
  });

  it('waits within the budget for an image AWS finishes in time, and completes it in the same run', async () => {
    const policy = policyFor((p) => {
      if (p.images) {
        p.images.generations = 2;
        p.images.waitSeconds = 840;
      }
    });
    // Images of this instance take AWS 10 minutes: inside the 14-minute wait budget.
    const quick = emulatorClients('ap-northeast-1', { 'ec2.image': 600 });
    const web = await launch(quick, estate, { policy });
    clock.set(week(0));

    const result = (await run(syntheticScheduledEvent(week(0)), { policy, clients: quick })) as RunResult;

    expect(result.ok).toBe(true);
    expect(result.targets[0]?.target).toBe(web);
    expect(result.targets[0]?.imageState).toBe('available');
    expect(result.metrics.find((m) => m.name === 'ImagesPending')).toBeUndefined();
    // The wait passed on the simulated clock (no real sleeping): 10 to 11 minutes after the run's time.
    expect(clock.now().getTime() - week(0).getTime()).toBeGreaterThanOrEqual(600_000);
    expect(clock.now().getTime() - week(0).getTime()).toBeLessThanOrEqual(660_000);
  });

  it('warns once about an image pending past the limit, then fails the next run, naming it', async () => {
    const policy = policyFor((p) => {
      if (p.images) p.images.stuckAfterHours = 24;
    });
    // This instance's images take AWS three weeks (a stuck image).
    const stuck = emulatorClients('ap-northeast-1', { 'ec2.image': 21 * 86_400 });
    const web = await launch(stuck, estate, { policy });
    const at = async (t: Date) => {
      clock.set(t);
      return (await run(syntheticScheduledEvent(t), { policy, clients: stuck })) as RunResult;
    };

    const first = await at(week(0));
    const second = await at(week(1));
    const third = await at(week(2));

    expect(first.ok).toBe(true);
    expect(second.ok).toBe(true);
    expect(second.targets[0]?.warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^kura-${web}-202609051900 \\(ami-\\w+\\) is still pending after 7 days \\(limit 24 h`),
      ),
    ]);
    expect(third.ok).toBe(false);
    expect(third.targets[0]?.error?.name).toBe('RecoveryPointStuckError');
    expect(third.targets[0]?.error?.message).toContain(`kura-${web}-202609051900`);
  });

  it('takes an on-demand image of one instance with its reason in the tags and the record', async () => {
    const policy = policyFor();
    const web = await launch(clients, estate, { policy });
    const other = await launch(clients, estate, { policy });
    const at = new Date('2026-09-09T02:13:00Z');

    const result = await invoke(at, policy, { instance: web, reason: 'after nginx upgrade' });

    expect(result.ok).toBe(true);
    expect(result.targets.map((t) => t.target)).toEqual([web]);
    expect(result.onDemand).toEqual({ instance: web, reason: 'after nginx upgrade' });
    const [img] = await imagesOf(clients, web);
    expect(img?.name).toBe(`kura-${web}-202609090213`);
    expect(img?.tags).toMatchObject({
      'kura:reason': 'after nginx upgrade',
      'kura:time': at.toISOString(),
      'kura:created-by': 'ami-backup',
    });
    expect(await snapshotTags(clients, img?.snapshotIds[0] ?? '')).toMatchObject({
      'kura:reason': 'after nginx upgrade',
    });
    const record = (await new S3RecordStore(clients, bucket).get(configRecordKey(web, img?.name ?? ''))) as {
      image: { reason: string };
    };
    expect(record.image.reason).toBe('after nginx upgrade');
    expect(await imagesOf(clients, other)).toEqual([]);
  });

  it('images an untagged instance on demand but warns that schedules skip it', async () => {
    const policy = policyFor();
    const untagged = await launch(clients, estate, {});

    const result = await invoke(week(0), policy, { instance: untagged, reason: 'before migration' });

    expect(result.ok).toBe(true);
    expect(result.warnings).toContainEqual(expect.stringContaining('scheduled runs do not image it'));
    expect(await imagesOf(clients, untagged)).toHaveLength(1);
  });

  it('rejects a malformed instance id or an unknown flag before anything changes', async () => {
    const policy = policyFor();

    await expect(invoke(week(0), policy, { instance: 'web-1' })).rejects.toThrow(InputError);
    await expect(invoke(week(0), policy, { instnace: 'i-0123456789abcdef0' })).rejects.toThrow(
      /event.detail.instnace: unknown/,
    );
    await expect(invoke(week(0), policy, { instance: 'i-00000000000000000' })).rejects.toThrow(
      /was not found in ap-northeast-1/,
    );
  });
});
