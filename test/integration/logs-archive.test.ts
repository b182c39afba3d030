// Integration (logs, daily move) against moto: verified move from landing to
// the vault, malformed keys and unknown classes left in place, faults injected
// by wrapping the LogStorePort.
import { HeadObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { logArchive as run } from '../support/functions.ts';
import type { LogStorePort } from '../../shared/aws/log-store.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { logArchive } from '../../shared/usecases/log-archive.ts';
import { accessLog, bytesOf, dropLog, keys, type LogsWorld, logsWorld, sha256 } from '../support/logs.ts';

const TIME = new Date('2025-11-21T02:00:00+09:00');

describe('log-archive', () => {
  let w: LogsWorld;
  beforeAll(async () => {
    w = await logsWorld();
  });

  it('moves rotated files into the vault under class/host/date and removes the landing copy when the checksums match', async () => {
    // Prepare
    const a = accessLog('web-1', '2025-11-20', 500);
    const b = accessLog('web-2', '2025-11-20', 300, 1);
    const c = 'E 2025-11-20 12:00:01 payment timeout\n'.repeat(50);
    await dropLog(w, 'web-1/access/access.log-20251120', a);
    await dropLog(w, 'web-2/access/access.log-20251120.gz', b, { sha256: true }); // S3 already holds its SHA-256
    await dropLog(w, 'app-1/application/app-2025-11-20.log', c);

    // Act
    const result = await run(syntheticScheduledEvent(TIME), w.deps);

    // Assess
    expect(result.ok).toBe(true);
    expect(result.moved).toBe(3);
    expect(await keys(w.s3, w.landingBucket, 'incoming/')).toEqual([]);
    expect(await keys(w.s3, w.vault, 'logs/')).toEqual([
      'logs/access/web-1/2025-11-20/access.log-20251120',
      'logs/access/web-2/2025-11-20/access.log-20251120.gz',
      'logs/application/app-1/2025-11-20/app-2025-11-20.log',
    ]);
    expect(sha256(await bytesOf(w.s3, w.vault, 'logs/access/web-1/2025-11-20/access.log-20251120'))).toBe(
      sha256(a),
    );
    const head = await w.s3.send(
      new HeadObjectCommand({
        Bucket: w.vault,
        Key: 'logs/application/app-1/2025-11-20/app-2025-11-20.log',
        ChecksumMode: 'ENABLED',
      }),
    );
    expect(Buffer.from(head.ChecksumSHA256 ?? '', 'base64').toString('hex')).toBe(sha256(c));
  });

  it('reports malformed keys and unknown classes and leaves them in landing', async () => {
    // Prepare
    const bad = [
      'web-1/access.log-20251120',
      'web-1/access/nested/access.log',
      'web-1/audit/audit.log-20251120',
      '-bad host/access/x.log',
    ];
    for (const k of bad) await dropLog(w, k, 'line\n');
    await dropLog(w, 'web-1/system/messages-20251120', 'Nov 20 kernel: ok\n');

    // Act
    const result = await run(syntheticScheduledEvent(TIME), w.deps);

    // Assess
    expect(result.ok).toBe(true);
    const rejected = result.rejected as { key: string; problem: string }[];
    expect(rejected.map((r) => r.key).sort()).toEqual(bad.map((k) => `incoming/${k}`).sort());
    expect(rejected.find((r) => r.key.includes('audit'))?.problem).toMatch(
      /class "audit" is not in the policy/,
    );
    expect(rejected.find((r) => r.key.includes('nested'))?.problem).toMatch(
      /4 path segment\(s\).*<host>\/<class>\/<file>/,
    );
    expect(result.warnings).toHaveLength(bad.length);
    expect(await keys(w.s3, w.landingBucket, 'incoming/')).toEqual(bad.map((k) => `incoming/${k}`).sort());
    expect(await keys(w.s3, w.vault, 'logs/system/')).toEqual([
      'logs/system/web-1/2025-11-20/messages-20251120',
    ]);
    expect(result.metrics.find((m) => m.name === 'LogFilesRejected')?.value).toBe(bad.length);
  });

  it('keeps the landing copy and hides the vault copy when the vault copy does not match', async () => {
    // Prepare: an adapter whose copies come back with another checksum.
    await dropLog(w, 'web-3/access/access.log-20251119', accessLog('web-3', '2025-11-19', 50));
    const corrupting: LogStorePort = Object.assign(Object.create(w.store) as LogStorePort, {
      copy: async (...args: Parameters<LogStorePort['copy']>) => ({
        ...(await w.store.copy(...args)),
        sha256: '0'.repeat(64),
      }),
    });

    // Act
    const result = await logArchive(TIME, w.policy, { store: corrupting });

    // Assess
    const web3 = result.targets.find((t) => t.target === 'access/web-3');
    expect(web3?.status).toBe('failed');
    expect(web3?.error?.message).toMatch(/does not match.*landing copy kept/);
    expect(await keys(w.s3, w.landingBucket, 'incoming/web-3/')).toEqual([
      'incoming/web-3/access/access.log-20251119',
    ]);
    expect(await keys(w.s3, w.vault, 'logs/access/web-3/')).toEqual([]); // hidden behind a delete marker
  });

  it('finishes a move whose landing delete failed without copying again when re-run', async () => {
    // Prepare: the first run crashes right after the verified copy.
    await dropLog(w, 'web-4/access/access.log-20251120', accessLog('web-4', '2025-11-20', 80));
    const crashing: LogStorePort = Object.assign(Object.create(w.store) as LogStorePort, {
      remove: async () => {
        throw new Error('injected crash before the landing delete');
      },
    });
    const first = await logArchive(TIME, w.policy, { store: crashing });
    expect(first.targets.find((t) => t.target === 'access/web-4')?.status).toBe('failed');

    // Act
    const second = await logArchive(TIME, w.policy, { store: w.store });

    // Assess
    expect(second.targets.find((t) => t.target === 'access/web-4')?.counts).toMatchObject({
      finished: 1,
      moved: 0,
    });
    expect(await keys(w.s3, w.landingBucket, 'incoming/web-4/')).toEqual([]);
    const versions = await w.s3.send(
      new ListObjectVersionsCommand({ Bucket: w.vault, Prefix: 'logs/access/web-4/' }),
    );
    expect(versions.Versions).toHaveLength(1);
  });

  it('leaves a different file with the same name in landing rather than overwrite the vault copy', async () => {
    // Prepare
    await dropLog(w, 'web-5/access/access.log-20251120', 'first\n');
    await logArchive(TIME, w.policy, { store: w.store });
    await dropLog(w, 'web-5/access/access.log-20251120', 'second, different\n');

    // Act
    const result = await logArchive(TIME, w.policy, { store: w.store });

    // Assess
    const t = result.targets.find((x) => x.target === 'access/web-5');
    expect(t?.warnings.join(' ')).toMatch(/already holds a different/);
    expect(
      (await bytesOf(w.s3, w.vault, 'logs/access/web-5/2025-11-20/access.log-20251120')).toString(),
    ).toBe('first\n');
    expect(await keys(w.s3, w.landingBucket, 'incoming/web-5/')).toEqual([
      'incoming/web-5/access/access.log-20251120',
    ]);
  });
});
