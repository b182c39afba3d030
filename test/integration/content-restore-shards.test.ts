// Integration (content class, restore at scale): a whole generation of
// several shards is restored and verified shard by shard on its stored plan;
// a re-run after a crash mid-shard continues from the shard's progress record
// (the keys a crashed slice wrote are checked by SHA-256, not copied again);
// verify names a changed vault object; the restore state machine runs one
// Distributed Map child per shard, each in slices, then records the item.
import { describe, expect, it } from 'vitest';
import { operatorClients } from '../../local/iam/principals.ts';
import { localApproval } from '../../local/restore.ts';
import { runStateMachine } from '../../local/state-machine-runner.ts';
import { type ContentPort, S3ContentAdapter } from '../../shared/aws/content.ts';
import { contentBackupPorts } from '../../shared/aws/content-generations.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { verifyGeneration } from '../../shared/restore/content-generation.ts';
import {
  type ContentJob,
  jobProgress,
  jobShards,
  jobTotals,
  type ShardProgress,
} from '../../shared/restore/content-shard-job.ts';
import { runJob, runJobShard } from '../../shared/restore/content-sharded.ts';
import { contentBackup } from '../../shared/usecases/content-backup.ts';
import { verifyJob } from '../../shared/usecases/content-restore-shards.ts';
import { type ContentFixture, contentFixture, counting, putSource } from '../support/content.ts';
import { emulatorClients } from '../support/emulator.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';

const clients = emulatorClients();
const day0 = new Date(Date.UTC(2026, 10, 1, 20, 30)); // 05:30 Tokyo on 2 Nov
const key = (i: number) => `img-${String(i).padStart(3, '0')}.png`;

async function backedUp(count: number) {
  const f = await contentFixture(clients);
  for (let i = 0; i < count; i++) await putSource(clients, f, key(i), { body: `image ${i}` });
  const port = new S3ContentAdapter(clients);
  await contentBackup(day0, f.policy, contentBackupPorts(port, f.policy), { shardKeys: 3 });
  return { f, port, store: new S3RestoreStore(clients, f.policy.vault.bucket) };
}

/** A restore of the fixture's first generation into its source bucket under `prefix`. */
const restoreJob = (f: ContentFixture, id: string, prefix: string): ContentJob => ({
  id,
  mode: 'restore',
  source: f.name,
  generation: '2026-11-02',
  to: { bucket: f.sourceBucket, prefix },
});

describe('content restore, sharded and resumable', () => {
  it('continues a shard that crashed mid-way from its progress record, copying each key once', async () => {
    // Prepare: 9 objects in 3 shards; shard 1 crashes on its third copy (chunks of 1 key,
    // a progress record after every chunk).
    const { f, port, store } = await backedUp(9);
    const job = restoreJob(f, 'r-crash', 'restored/');
    const shards = await jobShards(vaultContent(port, f.policy), job);
    let copies = 0;
    const crashing: ContentPort = Object.assign(Object.create(port) as ContentPort, {
      copy: async (...args: Parameters<ContentPort['copy']>) => {
        if (++copies === 3) throw new Error('simulated crash (Lambda killed)');
        return port.copy(...args);
      },
    });
    const opts = { chunkKeys: 1, checkpointMs: 0 };
    const shard1 = shards[1] as (typeof shards)[number];
    await expect(
      runJobShard(
        { vault: vaultContent(crashing, f.policy), target: crashing, store },
        f.policy,
        job,
        shard1,
        {
          ...opts,
          fresh: true,
        },
      ),
    ).rejects.toThrow(/simulated crash/);
    const { port: counted, calls } = counting(port);

    // Act: the same restore id again (the target is no longer empty).
    const again = await runJobShard(
      { vault: vaultContent(counted, f.policy), target: counted, store },
      f.policy,
      job,
      shard1,
      opts,
    );

    // Assess: the two keys recorded are not touched again, the third copied once.
    expect(shards).toHaveLength(3);
    expect(again.complete).toBe(true);
    expect(again.progress).toMatchObject({ objects: 3, copied: 3, alreadyRestored: 0, invocations: 2 });
    expect(calls.copy).toBe(1);
    expect(calls.head ?? 0).toBe(0);
    const restored = await port.listKeys(f.sourceBucket, 'restored/');
    expect(restored.map((k) => k.slice('restored/'.length))).toEqual([key(3), key(4), key(5)]);
  });

  it('finds the copies of a slice that crashed before its first record by SHA-256 and keeps them', async () => {
    // Prepare: a shard whose copies were made but whose progress was never saved.
    const { f, port, store } = await backedUp(9);
    const job = restoreJob(f, 'r-norecord', 'restored/');
    const [shard0] = await jobShards(vaultContent(port, f.policy), job);
    const noRecord = { get: async () => undefined, put: async () => undefined };
    await runJobShard(
      { vault: vaultContent(port, f.policy), target: port, store: noRecord },
      f.policy,
      job,
      shard0 as never,
      {
        fresh: true,
      },
    );
    // One of them is then replaced by someone else's bytes (of the same size).
    await putSource(clients, { ...f, prefix: 'restored/' }, key(2), { body: 'image X' });
    const { port: counted, calls } = counting(port);

    // Act
    const run = runJobShard(
      { vault: vaultContent(counted, f.policy), target: counted, store },
      f.policy,
      job,
      shard0 as never,
    );

    // Assess: the two copies are recognised by their SHA-256, the same-size stranger refused.
    await expect(run).rejects.toThrow(/restored\/img-002.png: holds an object without a SHA-256/);
    expect(calls.copy ?? 0).toBe(0);
    expect(calls.head).toBe(3);
  });

  it('restores a one-shard generation with the requests of a restore before sharding', async () => {
    // Prepare: 2 objects, one shard.
    const { f, port } = await backedUp(2);
    const { port: counted, calls } = counting(port);
    const job = restoreJob(f, 'r-small', 'small/');
    const records = counting(new S3RestoreStore(clients, f.policy.vault.bucket) as never);
    const store = records.port as unknown as S3RestoreStore;

    // Act
    const run = await runJob(
      { vault: vaultContent(counted, f.policy), target: counted, store },
      f.policy,
      job,
    );

    // Assess: before sharding a restore cost the index, one listing (empty target), two reads
    // of the manifest (keys checked, then copied) and the copies: 4 + 2. Now one read of the
    // manifest (a shard of one chunk is kept from the check) and one progress record; the
    // second get is the index's seal, checked before the index is trusted (docs/vault.md).
    expect(run.complete).toBe(true);
    expect(calls).toEqual({ get: 2, listPage: 1, read: 1, copy: 2 });
    expect(records.calls).toEqual({ put: 1 });
  });

  it('verifies a generation shard by shard, names a changed object, and continues a stopped verify', async () => {
    // Prepare: 7 objects in 3 shards; bit rot in one object of the last shard (the emulator
    // cannot alter a stored version, so the read is wrapped); a first verify stopped at its
    // budget after its first chunk (objects 0 and 1 of shard 0).
    const { f, port, store } = await backedUp(7);
    const rotten: ContentPort = Object.assign(Object.create(port) as ContentPort, {
      read: async function* (ref: Parameters<ContentPort['read']>[0]) {
        for await (const chunk of port.read(ref)) {
          const b = Buffer.from(chunk);
          if (ref.key.endsWith(key(6))) b[0] = (b[0] ?? 0) ^ 0x01;
          yield b;
        }
      },
    });
    const run = { budgetMs: 0, chunkKeys: 2, checkpointMs: 0 };
    const req = { source: f.name, generation: '2026-11-02', id: 'v-rot', store, run };
    await expect(verifyGeneration(vaultContent(rotten, f.policy), f.policy, req)).rejects.toThrow(
      /0 of 3 shard\(s\) done/,
    );
    const { port: counted, calls } = counting(rotten);

    // Act
    const report = await verifyGeneration(vaultContent(counted, f.policy), f.policy, {
      ...req,
      run: { ...run, budgetMs: 60_000 },
    });

    // Assess: objects 0 and 1 are not re-read; the rot is named.
    expect(report).toMatchObject({ ok: false, objects: 7, checked: 7 });
    expect(report.failures.map((x) => [x.key, x.problem.split(' ')[0]])).toEqual([[key(6), 'SHA-256']]);
    // Three shard manifests and the five objects not verified yet (from zero: 3 + 7).
    expect(calls.read).toBe(8);
  });
});

describe('the restore state machine, content of several shards', () => {
  it('restores each shard in a Distributed Map child, in slices, then records the item', async () => {
    // Prepare: 7 objects in 3 shards (3, 3, 1); chunks of 2 keys and a zero budget: one chunk per slice.
    const { f, store } = await backedUp(7);
    const deps = { policy: f.policy, clients };
    const request = { id: 'content-shards-sm', reason: 'shard test', content: [{ source: f.name }] };

    // Act
    const out = await runStateMachine(
      'restore',
      { request, contentTuning: { budgetSeconds: 0, chunkKeys: 2, checkpointSeconds: 0 } },
      {
        deps,
        integrations: { 'arn:aws:states:::lambda:invoke': localApproval({ deps }) },
        onEvent: (e) =>
          process.env.KURA_TEST_TRACE && console.log(e.type, e.state, e.error ?? '', e.cause ?? ''),
      },
    );

    // Assess
    expect(out.status, `${out.error}: ${out.cause}`).toBe('SUCCEEDED');
    expect(out.visited.filter((s) => s === 'ContentShardRestored')).toHaveLength(3);
    // 2 + 2 + 1 slices: a shard of 3 keys needs two.
    expect(out.visited.filter((s) => s === 'RestoreContentShard')).toHaveLength(5);
    const iso = f.policy.isolatedAccount;
    if (!iso) throw new Error('test policy has no isolated account');
    const isolated = await operatorClients(iso.accountId, clients, f.policy.region);
    const bucket = `kura-isolated-${iso.accountId}-${f.policy.region}`;
    const prefix = `kura-restore/content/${f.name}/2026-11-02/content-shards-sm/`;
    const keys = await new S3ContentAdapter(isolated).listKeys(bucket, prefix);
    expect(keys.map((k) => k.slice(prefix.length))).toEqual(Array.from({ length: 7 }, (_, i) => key(i)));
    const job: ContentJob = {
      id: 'content-shards-sm',
      mode: 'restore',
      source: f.name,
      generation: '2026-11-02',
      to: { bucket, prefix },
    };
    const progress = await jobProgress(
      store,
      job,
      await jobShards(vaultContent(new S3ContentAdapter(clients), f.policy), job),
    );
    expect(progress.complete).toBe(true);
    // Each key copied once, none found twice: the item step only summed the shards.
    expect(jobTotals(progress.shards as ShardProgress[])).toMatchObject({
      objects: 7,
      copied: 7,
      alreadyRestored: 0,
    });
    const record = await store.get<{
      status: string;
      restored: { recoveryPoint: { details: Record<string, unknown> } };
    }>('content-shards-sm', `items/content-${f.name}.json`);
    expect(record?.status).toBe('done');
    expect(record?.restored.recoveryPoint.details).toMatchObject({ restoredObjects: 7 });
    void verifyJob;
  });
});
