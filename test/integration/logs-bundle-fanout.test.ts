// Integration (logs, monthly bundling fanned out): the log-bundle state
// machine plans the due (class, host, month) groups and bundles each in its
// own Distributed Map child; a group's incomplete multipart uploads that a
// crashed run left are aborted, and a group that is not due is refused.
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { runStateMachine } from '../../local/state-machine-runner.ts';
import { sealedLogStore } from '../../shared/aws/seals.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { bundleLogGroup, planLogBundle, STALE_UPLOAD_MS } from '../../shared/usecases/log-bundle.ts';
import { keys, logsWorld, putLoose } from '../support/logs.ts';

const DEC_1 = new Date('2025-12-01T03:00:00+09:00');

describe('log-bundle fanned out', () => {
  it('bundles every due group in its own Map child and leaves the months not due', async () => {
    // Prepare: two hosts in September, one in August, one host in October (not due on December 1st).
    const w = await logsWorld();
    for (const [cls, host, day] of [
      ['access', 'web-1', '2025-09-03'],
      ['access', 'web-1', '2025-09-04'],
      ['access', 'web-2', '2025-09-05'],
      ['application', 'app-1', '2025-08-10'],
      ['access', 'web-1', '2025-10-01'],
    ] as const)
      await putLoose(w, cls, host, day, `f-${day}.log`, `${host} ${day}\n`);

    // Act
    const out = await runStateMachine('log-bundle', syntheticScheduledEvent(DEC_1), { deps: w.deps });

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    expect(out.visited.filter((s) => s === 'Group')).toHaveLength(3);
    expect((await keys(w.s3, w.vault, 'log-bundles/')).filter((k) => k.endsWith('.tar.gz'))).toEqual([
      'log-bundles/access/web-1/2025-09/part-001.tar.gz',
      'log-bundles/access/web-2/2025-09/part-001.tar.gz',
      'log-bundles/application/app-1/2025-08/part-001.tar.gz',
    ]);
    expect(await keys(w.s3, w.vault, 'logs/')).toEqual(['logs/access/web-1/2025-10-01/f-2025-10-01.log']);
  });

  it('plans the groups as items, and a group step bundles only its own month of its own host', async () => {
    // Prepare
    const w = await logsWorld();
    await putLoose(w, 'access', 'web-1', '2025-09-03', 'a.log', 'a\n');
    await putLoose(w, 'access', 'web-1', '2025-08-03', 'b.log', 'b\n');
    const ports = sealedLogStore(w.store, w.policy.vault.bucket);

    // Act
    const plan = await planLogBundle(DEC_1, w.policy, ports);
    const one = await bundleLogGroup(DEC_1, w.policy, ports, {
      logClass: 'access',
      host: 'web-1',
      month: '2025-09',
    });

    // Assess
    expect(plan.items).toEqual([
      { logClass: 'access', host: 'web-1', month: '2025-08' },
      { logClass: 'access', host: 'web-1', month: '2025-09' },
    ]);
    expect(one.targets.map((t) => [t.target, t.members])).toEqual([['access/web-1/2025-09', 1]]);
    expect(await keys(w.s3, w.vault, 'logs/')).toEqual(['logs/access/web-1/2025-08-03/b.log']);
    await expect(
      bundleLogGroup(DEC_1, w.policy, ports, { logClass: 'access', host: 'web-1', month: '2025-10' }),
    ).rejects.toThrow(/item.month: 2025-10 is not due for bundling .* expected a month before 2025-10/);
  });

  it('aborts the incomplete multipart uploads a crashed run left for the group, not one that may still be running', async () => {
    // Prepare: an upload begun for the group's bundle and never completed.
    const w = await logsWorld();
    await putLoose(w, 'access', 'web-1', '2025-09-03', 'a.log', 'a\n');
    const key = 'log-bundles/access/web-1/2025-09/part-001.tar.gz';
    await w.s3.send(
      new CreateMultipartUploadCommand({ Bucket: w.vault, Key: key, ChecksumAlgorithm: 'SHA256' }),
    );
    const [left] = await w.store.incompleteUploads(w.vault, 'log-bundles/');
    if (!left) throw new Error('expected the incomplete upload');
    const item = { logClass: 'access', host: 'web-1', month: '2025-09' };

    // Act: once while it could still be a live run's, once when it cannot.
    const early = await bundleLogGroup(
      DEC_1,
      w.policy,
      { ...sealedLogStore(w.store, w.policy.vault.bucket), clock: () => new Date(left.initiated.getTime() + 60_000) },
      item,
    );
    const stillThere = await w.store.incompleteUploads(w.vault, 'log-bundles/');
    const later = await bundleLogGroup(
      DEC_1,
      w.policy,
      { ...sealedLogStore(w.store, w.policy.vault.bucket), clock: () => new Date(left.initiated.getTime() + STALE_UPLOAD_MS + 60_000) },
      item,
    );

    // Assess
    expect(early.targets[0]).toMatchObject({ status: 'ok', members: 1 });
    expect(early.targets[0]?.actions.join('\n')).not.toMatch(/aborted/);
    expect(stillThere.map((u) => u.uploadId)).toEqual([left.uploadId]);
    expect(later.targets[0]?.actions[0]).toBe(
      `aborted 1 incomplete multipart upload(s) an earlier run left: ${key}`,
    );
    expect(await w.store.incompleteUploads(w.vault, 'log-bundles/')).toEqual([]);
  });
});
