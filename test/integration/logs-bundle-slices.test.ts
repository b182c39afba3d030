// Integration (logs, a group larger than one invocation): the bundle is
// written segment by segment into one multipart upload that outlives the
// invocation. Several invocations give the very bytes one invocation gives,
// no upload is left behind, and a crash in the middle continues from the
// saved state (the parts sent before it are not sent again).
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { runStateMachine } from '../../local/state-machine-runner.ts';
import { sealedLogStore } from '../../shared/aws/seals.ts';
import type { LogStorePort } from '../../shared/aws/log-store.ts';
import { sealKey } from '../../shared/domain/seals.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { bundleLogGroup, type GroupOptions } from '../../shared/usecases/log-bundle.ts';
import { keys, type LogsWorld, logsWorld, putLoose } from '../support/logs.ts';

const DEC_1 = new Date('2025-12-01T03:00:00+09:00');
const MiB = 1024 * 1024;
const ITEM = { logClass: 'access', host: 'web-1', month: '2025-09' };
const BUNDLE = 'log-bundles/access/web-1/2025-09/part-001.tar.gz';
/** 4 files of 3 MiB (incompressible), a segment per file, 5 MiB parts: 3 parts, tails carried over. */
const SMALL: GroupOptions = { segmentBytes: 3 * MiB, partSize: 5 * MiB, checkpointParts: 1 };

async function fourFiles(w: LogsWorld): Promise<void> {
  for (const day of ['01', '02', '03', '04'])
    await putLoose(w, 'access', 'web-1', `2025-09-${day}`, 'access.log', randomBytes(3 * MiB));
}

async function versionBytes(w: LogsWorld, key: string, versionId: string): Promise<Buffer> {
  const out = await w.s3.send(new GetObjectCommand({ Bucket: w.vault, Key: key, VersionId: versionId }));
  return Buffer.from(
    await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

/** Undoes a committed bundle so the same loose files (same LastModified) are bundled again. */
async function unbundle(w: LogsWorld): Promise<void> {
  const v = await w.s3.send(new ListObjectVersionsCommand({ Bucket: w.vault, Prefix: 'logs/' }));
  for (const m of v.DeleteMarkers ?? [])
    await w.s3.send(new DeleteObjectCommand({ Bucket: w.vault, Key: m.Key, VersionId: m.VersionId }));
  const manifest = BUNDLE.replace('.tar.gz', '.manifest.json');
  await w.s3.send(new DeleteObjectCommand({ Bucket: w.vault, Key: manifest }));
  // Its seal too: a manifest is sealed once, and the second bundle (another version of the
  // tar.gz) would rightly be refused as a conflict against the first one's seal.
  await w.s3.send(new DeleteObjectCommand({ Bucket: w.vault, Key: sealKey(manifest, 1) }));
}

async function bundleVersions(w: LogsWorld): Promise<string[]> {
  const v = await w.s3.send(new ListObjectVersionsCommand({ Bucket: w.vault, Prefix: BUNDLE }));
  return (v.Versions ?? [])
    .sort((a, b) => Number(a.IsLatest) - Number(b.IsLatest))
    .map((x) => x.VersionId as string);
}

describe('log bundling across invocations', () => {
  it('gives the same bytes in four invocations as in one, with no upload or pending state left', async () => {
    // Prepare
    const w = await logsWorld();
    await fourFiles(w);
    const ports = sealedLogStore(w.store, w.policy.vault.bucket);

    // Act: one invocation; then the same files again, one segment per invocation.
    const one = await bundleLogGroup(DEC_1, w.policy, ports, ITEM, {
      ...SMALL,
      budgetMs: Number.POSITIVE_INFINITY,
    });
    await unbundle(w);
    const slices = [];
    for (let i = 0; i < 10; i++) {
      const r = await bundleLogGroup(DEC_1, w.policy, ports, ITEM, { ...SMALL, budgetMs: 0 });
      slices.push(r);
      if (r.complete) break;
    }

    // Assess
    expect(one).toMatchObject({ ok: true, complete: true });
    expect(slices.map((s) => s.complete)).toEqual([false, false, false, true]);
    expect(slices[1]?.targets[0]?.actions[0]).toMatch(
      /continued .*part-001.tar.gz from its multipart upload: 0 part\(s\) and 1 of 4 file\(s\) done/,
    );
    expect(slices[3]?.targets[0]).toMatchObject({ members: 4, invocations: 4 });
    const [first, second] = await bundleVersions(w);
    const a = await versionBytes(w, BUNDLE, first as string);
    const b = await versionBytes(w, BUNDLE, second as string);
    expect(b.length).toBe(a.length);
    expect(b.equals(a)).toBe(true);
    expect(await w.store.incompleteUploads(w.vault, '')).toEqual([]);
    expect(await keys(w.s3, w.vault, 'log-bundles-work/')).toEqual([]);
    expect(await keys(w.s3, w.vault, 'logs/')).toEqual([]);
  });

  it('continues after a crash from the last saved state, not from the first part', async () => {
    // Prepare: part 2 fails once, after the state was saved with part 1 done.
    const w = await logsWorld();
    await fourFiles(w);
    const sent: number[] = [];
    let crash = true;
    const store: LogStorePort = Object.create(w.store);
    store.uploadPart = async (bucket, key, uploadId, n, body) => {
      if (n === 2 && crash) {
        crash = false;
        throw new Error('Lambda crashed');
      }
      sent.push(n);
      return w.store.uploadPart(bucket, key, uploadId, n, body);
    };
    const opts = { ...SMALL, budgetMs: Number.POSITIVE_INFINITY };

    // Act
    const crashed = await bundleLogGroup(DEC_1, w.policy, sealedLogStore(store, w.policy.vault.bucket), ITEM, opts);
    const sentBefore = [...sent];
    const resumed = await bundleLogGroup(DEC_1, w.policy, sealedLogStore(store, w.policy.vault.bucket), ITEM, opts);

    // Assess
    expect(crashed.ok).toBe(false);
    expect(sentBefore).toEqual([1]);
    expect(sent.slice(sentBefore.length)).toEqual([2, 3]);
    expect(resumed).toMatchObject({ ok: true, complete: true });
    expect(resumed.targets[0]?.actions[0]).toMatch(/1 part\(s\) and 2 of 4 file\(s\) done/);
    expect(resumed.targets[0]?.actions.at(-1)).toMatch(/bundled 4 file\(s\).*over 2 invocations.*verified/);
    expect(await w.store.incompleteUploads(w.vault, '')).toEqual([]);
    expect(await keys(w.s3, w.vault, 'log-bundles-work/')).toEqual([]);
  });

  it('loops a Map child through the Choice state until its group reports complete', async () => {
    // Prepare
    const w = await logsWorld();
    await fourFiles(w);
    const group = async (input: unknown) => {
      const e = input as { time: string; item: typeof ITEM };
      return bundleLogGroup(new Date(e.time), w.policy, sealedLogStore(w.store, w.policy.vault.bucket), e.item, {
        ...SMALL,
        budgetMs: 0,
      });
    };

    // Act
    const out = await runStateMachine('log-bundle', syntheticScheduledEvent(DEC_1), {
      deps: w.deps,
      taskOverrides: { Group: group },
    });

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    expect(out.visited.filter((s) => s === 'Group')).toHaveLength(4);
    expect(out.visited.filter((s) => s === 'GroupDone')).toHaveLength(4);
    expect(await keys(w.s3, w.vault, 'log-bundles/')).toEqual([
      BUNDLE.replace('.tar.gz', '.manifest.json'),
      BUNDLE,
    ]);
    expect(await w.store.incompleteUploads(w.vault, '')).toEqual([]);
  });
});
