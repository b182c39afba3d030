// Integration (content class): the content-backup state machine loops over
// time-boxed slices until the day's generation is complete.
import { describe, expect, it } from 'vitest';
import { runStateMachine } from '../../local/state-machine-runner.ts';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { readManifest } from '../../shared/usecases/content-backup.ts';
import { contentFixture, putSource } from '../support/content.ts';
import { emulatorClients } from '../support/emulator.ts';

const clients = emulatorClients();

describe('content-backup state machine', () => {
  it('runs slices until the generation is complete when one slice cannot finish it', async () => {
    // Prepare: 8 objects, 3 keys per chunk, a zero budget: one chunk per slice.
    const f = await contentFixture(clients);
    for (let i = 0; i < 8; i++) await putSource(clients, f, `s/${i}.png`, { body: `s${i}` });
    const time = new Date('2026-11-01T20:30:00Z');

    // Act
    const outcome = await runStateMachine(
      'content-backup',
      syntheticScheduledEvent(time, { budgetSeconds: 0, chunkKeys: 3 }),
      {
        deps: { policy: f.policy, clients },
      },
    );

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.visited.filter((s) => s === 'BackupSlice')).toHaveLength(3);
    expect(outcome.visited.at(-1)).toBe('Done');
    expect((outcome.output as { result: { complete: boolean; generation: string } }).result).toMatchObject({
      complete: true,
      generation: '2026-11-02',
    });
    const manifest = await readManifest(new S3ContentAdapter(clients), f.policy, f.name, '2026-11-02');
    expect(manifest?.map((e) => e.key)).toEqual(Array.from({ length: 8 }, (_, i) => `s/${i}.png`));
  });

  it('fails without a manifest when a slice reports a failed source', async () => {
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
    expect(outcome.visited).toEqual(['BackupSlice', 'GenerationComplete?', 'BackupFailed']);
  });
});
