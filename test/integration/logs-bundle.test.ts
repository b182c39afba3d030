// Integration (logs, monthly bundling) against moto: a month of hundreds of
// files into one verified tar.gz, catching up a missed month, crashes
// injected (by wrapping the LogStorePort) between upload and delete, re-runs.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { logBundle as run } from '../support/functions.ts';
import { sealedLogStore } from '../../shared/aws/seals.ts';
import type { LogStorePort } from '../../shared/aws/log-store.ts';
import { parseManifest } from '../../shared/domain/logs/manifest.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { logBundle } from '../../shared/usecases/log-bundle.ts';
import { accessLog, bytesOf, keys, type LogsWorld, logsWorld, putLoose, sha256 } from '../support/logs.ts';

const DEC_1 = new Date('2025-12-01T03:00:00+09:00');

/** `count` hourly-rotated files of one host spread over a month; returns name → body. */
async function seedMonth(
  w: LogsWorld,
  logClass: string,
  host: string,
  month: string,
  count: number,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const work: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const day = `${month}-${String((i % 28) + 1).padStart(2, '0')}`;
    const file = `access.log-${day.replace(/-/g, '')}${String(Math.floor(i / 28) % 24).padStart(2, '0')}`;
    const body = accessLog(host, day, 20 + (i % 40), i);
    files.set(`${day}/${file}`, body);
    work.push(putLoose(w, logClass, host, day, file, body));
    if (work.length >= 16) await Promise.all(work.splice(0));
  }
  await Promise.all(work);
  return files;
}

async function manifests(w: LogsWorld, prefix: string) {
  const out = [];
  for (const k of (await keys(w.s3, w.vault, prefix)).filter((k) => k.endsWith('.manifest.json'))) {
    out.push(parseManifest((await bytesOf(w.s3, w.vault, k)).toString(), k));
  }
  return out;
}

/** Extracts a bundle with the system's tar and returns member name → content. */
function untar(bundle: Buffer): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'kura-bundle-'));
  writeFileSync(join(dir, 'b.tar.gz'), bundle);
  const names = execFileSync('tar', ['-tzf', 'b.tar.gz'], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
  execFileSync('tar', ['-xzf', 'b.tar.gz'], { cwd: dir });
  return new Map(names.map((n) => [n, readFileSync(join(dir, n), 'utf8')]));
}

describe('log-bundle', () => {
  let w: LogsWorld;
  beforeAll(async () => {
    w = await logsWorld();
  });

  it('bundles a month of hundreds of files into one tar.gz with a manifest and removes the originals', async () => {
    // Prepare: 360 files in September (due on December 1st), a few in October (not due).
    const september = await seedMonth(w, 'access', 'web-1', '2025-09', 360);
    await seedMonth(w, 'access', 'web-1', '2025-10', 5);

    // Act
    const result = await run(syntheticScheduledEvent(DEC_1), w.deps);

    // Assess
    expect(result.ok).toBe(true);
    expect(result.bundlesBefore).toBe('2025-10');
    expect(await keys(w.s3, w.vault, 'log-bundles/access/web-1/')).toEqual([
      'log-bundles/access/web-1/2025-09/part-001.manifest.json',
      'log-bundles/access/web-1/2025-09/part-001.tar.gz',
    ]);
    const [manifest] = await manifests(w, 'log-bundles/access/web-1/2025-09/');
    expect(manifest?.members).toHaveLength(360);
    const bundle = await bytesOf(w.s3, w.vault, 'log-bundles/access/web-1/2025-09/part-001.tar.gz');
    expect(sha256(bundle)).toBe(manifest?.bundle.sha256);
    const extracted = untar(bundle); // GNU tar reads it: a plain tar.gz
    expect(extracted.size).toBe(360);
    for (const [name, body] of september) expect(extracted.get(name), name).toBe(body);
    for (const m of manifest?.members ?? []) expect(m.sha256).toBe(sha256(september.get(m.name) ?? ''));
    expect(await keys(w.s3, w.vault, 'logs/access/web-1/2025-09')).toEqual([]);
    expect(await keys(w.s3, w.vault, 'logs/access/web-1/2025-10')).toHaveLength(5);
  });

  it('catches up every month a missed run left loose and does nothing twice when re-run', async () => {
    // Prepare: August and July of another host (the runs of September to November were missed).
    await seedMonth(w, 'application', 'app-1', '2025-07', 12);
    await seedMonth(w, 'application', 'app-1', '2025-08', 15);

    // Act
    const first = await logBundle(DEC_1, w.policy, sealedLogStore(w.store, w.policy.vault.bucket));
    const again = await logBundle(DEC_1, w.policy, sealedLogStore(w.store, w.policy.vault.bucket));

    // Assess
    expect(
      first.targets.filter((t) => t.target.startsWith('application/')).map((t) => [t.target, t.members]),
    ).toEqual([
      ['application/app-1/2025-07', 12],
      ['application/app-1/2025-08', 15],
    ]);
    expect(again.targets.filter((t) => t.target.startsWith('application/'))).toEqual([]);
    expect(
      (await keys(w.s3, w.vault, 'log-bundles/application/')).filter((k) => k.endsWith('.tar.gz')),
    ).toHaveLength(2);
  });

  it('keeps every original when the run crashes between the upload and the commit, and bundles once when re-run', async () => {
    // Prepare: a crash after the bundle is uploaded and verified, before its manifest is written.
    const files = await seedMonth(w, 'access', 'web-2', '2025-09', 40);
    const crashBeforeCommit: LogStorePort = Object.assign(Object.create(w.store) as LogStorePort, {
      putText: async (...args: Parameters<LogStorePort['putText']>) => {
        if (args[1].endsWith('.manifest.json')) throw new Error('injected crash before the manifest');
        return w.store.putText(...args);
      },
    });
    const crashed = await logBundle(DEC_1, w.policy, sealedLogStore(crashBeforeCommit, w.policy.vault.bucket));
    expect(crashed.targets.find((t) => t.target === 'access/web-2/2025-09')?.status).toBe('failed');
    expect(await keys(w.s3, w.vault, 'logs/access/web-2/2025-09')).toHaveLength(40);
    expect(await keys(w.s3, w.vault, 'log-bundles/access/web-2/')).toEqual([
      'log-bundles/access/web-2/2025-09/part-001.tar.gz',
    ]);

    // Act
    const rerun = await logBundle(DEC_1, w.policy, sealedLogStore(w.store, w.policy.vault.bucket));

    // Assess
    expect(rerun.targets.find((t) => t.target === 'access/web-2/2025-09')?.members).toBe(40);
    const ms = await manifests(w, 'log-bundles/access/web-2/');
    expect(ms.map((m) => m.part)).toEqual([1]);
    expect(ms[0]?.members.map((m) => m.name).sort()).toEqual([...files.keys()].sort());
    expect(await keys(w.s3, w.vault, 'logs/access/web-2/2025-09')).toEqual([]);
  });

  it('never overwrites a manifest another run committed meanwhile, and deletes no original then', async () => {
    // Prepare: a second run of the same month (a duplicate delivery) commits part 1 just before this one.
    await seedMonth(w, 'access', 'web-4', '2025-09', 12);
    const other = '{"written by":"another run"}';
    const raced: LogStorePort = Object.assign(Object.create(w.store) as LogStorePort, {
      putText: async (...args: Parameters<LogStorePort['putText']>) => {
        const [bucket, key] = args;
        if (key.endsWith('.manifest.json'))
          await w.store.putText(bucket, key, other, { tags: {}, contentType: 'application/json' });
        return w.store.putText(...args);
      },
    });

    // Act
    const r = await logBundle(DEC_1, w.policy, sealedLogStore(raced, w.policy.vault.bucket));

    // Assess
    const t = r.targets.find((x) => x.target === 'access/web-4/2025-09');
    expect(t?.status).toBe('failed');
    expect(t?.error?.message).toContain(
      'log-bundles/access/web-4/2025-09/part-001.manifest.json was committed by another run meanwhile',
    );
    expect(
      (await bytesOf(w.s3, w.vault, 'log-bundles/access/web-4/2025-09/part-001.manifest.json')).toString(),
    ).toBe(other);
    expect(await keys(w.s3, w.vault, 'logs/access/web-4/2025-09')).toHaveLength(12);
  });

  it("finishes when its own commit's answer was lost and the retried PUT finds its manifest there", async () => {
    // Prepare: the manifest PUT succeeds, its answer is lost, and the SDK's retry meets If-None-Match.
    await seedMonth(w, 'access', 'web-5', '2025-09', 6);
    const lostAnswer: LogStorePort = Object.assign(Object.create(w.store) as LogStorePort, {
      putText: async (...args: Parameters<LogStorePort['putText']>) => {
        if (!args[1].endsWith('.manifest.json')) return w.store.putText(...args);
        await w.store.putText(...args);
        return w.store.putText(...args);
      },
    });

    // Act
    const r = await logBundle(DEC_1, w.policy, sealedLogStore(lostAnswer, w.policy.vault.bucket));

    // Assess: committed once, then the originals removed as in a run without the fault.
    const t = r.targets.find((x) => x.target === 'access/web-5/2025-09');
    expect(t?.status, t?.error?.message).toBe('ok');
    expect(await keys(w.s3, w.vault, 'logs/access/web-5/2025-09')).toHaveLength(0);
  });

  it('removes the remaining originals without bundling them again when a crash stopped the deletes', async () => {
    // Prepare: a crash after the commit, when 10 of 30 originals are removed.
    const files = await seedMonth(w, 'access', 'web-3', '2025-09', 30);
    let removes = 0;
    const crashMidDelete: LogStorePort = Object.assign(Object.create(w.store) as LogStorePort, {
      remove: async (...args: Parameters<LogStorePort['remove']>) => {
        if (args[1].startsWith('logs/') && ++removes > 10)
          throw new Error('injected crash while removing originals');
        return w.store.remove(...args);
      },
    });
    const crashed = await logBundle(DEC_1, w.policy, sealedLogStore(crashMidDelete, w.policy.vault.bucket));
    expect(crashed.targets.find((t) => t.target === 'access/web-3/2025-09')?.status).toBe('failed');
    expect(await keys(w.s3, w.vault, 'logs/access/web-3/2025-09')).toHaveLength(20);

    // Act
    const rerun = await logBundle(DEC_1, w.policy, sealedLogStore(w.store, w.policy.vault.bucket));

    // Assess
    const t = rerun.targets.find((x) => x.target === 'access/web-3/2025-09');
    expect(t?.status).toBe('ok');
    expect(t?.actions.join(' ')).toMatch(/removed 20 original\(s\) already in committed bundle/);
    expect(await keys(w.s3, w.vault, 'logs/access/web-3/2025-09')).toEqual([]);
    const ms = await manifests(w, 'log-bundles/access/web-3/');
    expect(ms).toHaveLength(1); // no second part: nothing bundled twice
    const extracted = untar(await bytesOf(w.s3, w.vault, 'log-bundles/access/web-3/2025-09/part-001.tar.gz'));
    expect([...extracted.keys()].sort()).toEqual([...files.keys()].sort());
  });

  it('uploads a bundle bigger than one part as a multipart upload and verifies it', async () => {
    // Prepare: ~16 MB of barely compressible text: the bundle needs two 8 MiB parts.
    const big = [
      randomBytes(6 * 1024 * 1024).toString('base64'),
      randomBytes(6 * 1024 * 1024).toString('base64'),
    ];
    await putLoose(w, 'system', 'db-1', '2025-09-01', 'messages-20250901', big[0] as string);
    await putLoose(w, 'system', 'db-1', '2025-09-02', 'messages-20250902', big[1] as string);

    // Act
    const result = await logBundle(DEC_1, w.policy, sealedLogStore(w.store, w.policy.vault.bucket));

    // Assess
    const t = result.targets.find((x) => x.target === 'system/db-1/2025-09');
    expect(t?.status, JSON.stringify(t?.error)).toBe('ok');
    expect(Number(t?.bytesOut)).toBeGreaterThan(8 * 1024 * 1024);
    const extracted = untar(await bytesOf(w.s3, w.vault, 'log-bundles/system/db-1/2025-09/part-001.tar.gz'));
    expect(extracted.get('2025-09-01/messages-20250901')).toBe(big[0]);
    expect(extracted.get('2025-09-02/messages-20250902')).toBe(big[1]);
  });

  it('puts files that arrive after their month was bundled into the next part', async () => {
    // Prepare: web-1's September is bundled (first test); a late file arrives.
    const late = accessLog('web-1', '2025-09-30', 10, 999);
    await putLoose(w, 'access', 'web-1', '2025-09-30', 'access.log-20250930-late', late);

    // Act
    const result = await logBundle(new Date('2026-01-01T03:00:00+09:00'), w.policy, sealedLogStore(w.store, w.policy.vault.bucket));

    // Assess
    expect(result.targets.find((t) => t.target === 'access/web-1/2025-09')?.bundle).toBe(
      'log-bundles/access/web-1/2025-09/part-002.tar.gz',
    );
    const ms = await manifests(w, 'log-bundles/access/web-1/2025-09/');
    expect(ms.map((m) => [m.part, m.members.length])).toEqual([
      [1, 360],
      [2, 1],
    ]);
    expect(ms[1]?.members[0]?.sha256).toBe(sha256(late));
  });
});
