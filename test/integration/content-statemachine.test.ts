// Integration (content class): the content-backup state machine plans the
// shards, runs them in a Distributed Map (each child loops over time-boxed
// slices until its shard manifest exists) and writes the index last.
import { describe, expect, it } from 'vitest';
import { runStateMachine } from '../../local/state-machine-runner.ts';
import { readIndex, readManifest } from '../../shared/aws/content-generations.ts';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { contentFixture, putSource } from '../support/content.ts';
import { emulatorClients } from '../support/emulator.ts';

const clients = emulatorClients();

describe('content-backup state machine', () => {
  it('runs one Map child per shard, each in slices until its shard is complete, then the index', async () => {
    // Prepare: 8 objects, 3 keys per shard (3 shards), 2 keys per chunk, a zero budget: one chunk per slice.
    const f = await contentFixture(clients);
    for (let i = 0; i < 8; i++) await putSource(clients, f, `s/${i}.png`, { body: `s${i}` });
    const time = new Date('2026-11-01T20:30:00Z');

    const port = new S3ContentAdapter(clients);

    // Act
    const outcome = await runStateMachine(
      'content-backup',
      syntheticScheduledEvent(time, { budgetSeconds: 0, chunkKeys: 2, shardKeys: 3 }),
      {
        deps: { policy: f.policy, clients },
      },
    );

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.visited.filter((s) => s === 'Shard')).toHaveLength(5);
    expect(outcome.visited.filter((s) => s === 'ShardDone')).toHaveLength(3);
    expect(outcome.visited.at(-1)).toBe('Done');
    expect((await readIndex(port, f.policy, f.name, '2026-11-02'))?.shards.map((s) => s.objects)).toEqual([
      3, 3, 2,
    ]);
    expect((outcome.output as { result: { complete: boolean; generation: string } }).result).toMatchObject({
      complete: true,
      generation: '2026-11-02',
    });
    const manifest = await readManifest(port, f.policy, f.name, '2026-11-02');
    expect(manifest?.map((e) => e.key)).toEqual(Array.from({ length: 8 }, (_, i) => `s/${i}.png`));
  });

  it('fails without an index when the plan step reports a failed source', async () => {
    // Prepare: the source bucket does not exist.
    const f = await contentFixture(clients);
    f.policy.content = [{ name: f.name, source: 's3://kura-no-such-bucket-x1/images/', generations: 7 }];

    // Act
    const outcome = await runStateMachine(
      'content-backup',
      syntheticScheduledEvent(new Date('2026-11-01T20:30:00Z')),
      {
        deps: { policy: f.policy, clients },
      },
    );

    // Assess
    expect(outcome.status).toBe('FAILED');
    expect(outcome.visited).toEqual(['Start', 'Plan', 'Planned?', 'BackupFailed']);
  });
});
