import { operatorClients } from '../../local/iam/principals.ts';
// Integration (logs, restore) against moto: a day range spanning a bundled
// month and loose days comes back byte-identical (use case and `kura restore
// logs`), bad input is refused before anything is read, and the RestoreStep
// copies a bundle into the isolated account and verifies it.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { sealedLogStore } from '../../shared/aws/seals.ts';
import { LocalDirSink } from '../../shared/aws/log-sinks.ts';
import { logBundle } from '../../shared/usecases/log-bundle.ts';
import { executeLogRestore, planLogRestore } from '../../shared/restore/log-files.ts';
import { uniqueSuffix } from '../support/emulator.ts';
import { asValidationRestore } from '../support/functions.ts';
import { runKura } from '../support/kura-cli.ts';
import { accessLog, bytesOf, keys, type LogsWorld, logsWorld, putLoose } from '../support/logs.ts';
import { logsRestoreStep } from '../../shared/edge/restore-steps.ts';

function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe('restore logs', () => {
  let w: LogsWorld;
  const originals = new Map<string, string>(); // <class>/<host>/<day>/<file> → body

  beforeAll(async () => {
    w = await logsWorld();
    // September 20 to October 10 of web-1: September gets bundled on December 1st, October stays loose.
    for (
      let d = new Date('2025-09-20T00:00:00Z');
      d <= new Date('2025-10-10T00:00:00Z');
      d = new Date(d.getTime() + 86_400_000)
    ) {
      const day = d.toISOString().slice(0, 10);
      const file = `access.log-${day.replace(/-/g, '')}`;
      const body = accessLog('web-1', day, 200, d.getUTCDate());
      await putLoose(w, 'access', 'web-1', day, file, body);
      originals.set(`access/web-1/${day}/${file}`, body);
    }
    await putLoose(w, 'access', 'web-2', '2025-09-28', 'access.log-20250928', 'another host\n');
    const bundled = await logBundle(
      new Date('2025-12-01T03:00:00+09:00'),
      w.policy,
      sealedLogStore(w.store, w.policy.vault.bucket),
    );
    expect(bundled.ok).toBe(true);
  });

  it('restores a range spanning a bundled month and loose days byte-identical', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'kura-logs-restore-'));
    const request = { logClass: 'access', host: 'web-1', from: '2025-09-28', to: '2025-10-03' };

    // Act
    const plan = await planLogRestore(w.policy, sealedLogStore(w.store, w.policy.vault.bucket), request);
    const summary = await executeLogRestore(w.policy, w.store, plan, new LocalDirSink(dir));

    // Assess
    expect(summary.fromBundles).toBe(3);
    expect(summary.fromLoose).toBe(3);
    expect(summary.bundlesRead).toEqual(['log-bundles/access/web-1/2025-09/part-001.tar.gz']);
    expect(summary.daysWithoutLogs).toEqual([]);
    const restored = filesUnder(dir);
    const expected = [...originals].filter(
      ([p]) => p.slice(13, 23) >= '2025-09-28' && p.slice(13, 23) <= '2025-10-03',
    );
    expect([...restored.keys()].sort()).toEqual(expected.map(([p]) => p).sort());
    for (const [p, body] of expected) expect(restored.get(p)?.equals(Buffer.from(body)), p).toBe(true);
  });

  it('restores with `kura restore logs` to an S3 prefix and reports days without logs', async () => {
    // Prepare
    const dest = `kura-restored-${uniqueSuffix()}`;
    await w.s3.send(
      new CreateBucketCommand({
        Bucket: dest,
        CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-1' },
      }),
    );
    const policyFile = join(mkdtempSync(join(tmpdir(), 'kura-policy-')), 'policy.json');
    writeFileSync(policyFile, JSON.stringify(w.policy)); // JSON is YAML

    // Act
    const out = await runKura([
      '--policy',
      policyFile,
      'restore',
      'logs',
      '--class',
      'access',
      '--host',
      'web-1',
      '--from',
      '2025-09-30',
      '--to',
      '2025-10-12',
      '--dest',
      `s3://${dest}/incident-42/`,
      '--yes',
      '--json',
    ]);
    expect(out.code, out.stderr).toBe(0);

    // Assess
    const summary = JSON.parse(out.stdout);
    expect(summary).toMatchObject({
      files: 11,
      fromBundles: 1,
      fromLoose: 10,
      verified: true,
      daysWithoutLogs: ['2025-10-11', '2025-10-12'],
    });
    const restored = await keys(w.s3, dest, 'incident-42/');
    expect(restored).toHaveLength(11);
    const key = 'incident-42/access/web-1/2025-09-30/access.log-20250930';
    expect((await bytesOf(w.s3, dest, key)).toString()).toBe(
      originals.get('access/web-1/2025-09-30/access.log-20250930'),
    );
  });

  it('refuses a reversed range and an unknown class before reading anything', async () => {
    // Act / Assess
    await expect(
      planLogRestore(w.policy, sealedLogStore(w.store, w.policy.vault.bucket), {
        logClass: 'audit',
        host: 'web-1',
        from: '2025-10-03',
        to: '2025-09-28',
      }),
    ).rejects.toThrow(
      /--class: found "audit"; expected one of access, application, system[\s\S]*--from 2025-10-03 is after --to 2025-09-28/,
    );
  });

  it('copies a committed bundle into the isolated account and verifies it against its manifest', async () => {
    // Prepare
    const iso = w.policy.isolatedAccount;
    if (!iso) throw new Error('test policy has no isolated account');
    const isolated = await operatorClients(iso.accountId, w.clients);
    const bucket = `kura-isolated-logs-${uniqueSuffix()}`;
    await isolated.get(S3Client).send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-1' },
      }),
    );
    const target = { clients: isolated, accountId: iso.accountId, region: 'ap-northeast-1', bucket };

    // Act: the vault read as the validation machine's function that restores logs.
    const fn = await asValidationRestore('logs', w.deps);
    const points = await logsRestoreStep.list(fn, { source: 'access/web-1' });
    const first = points[0];
    if (!first) throw new Error('no recovery point');
    const item = await logsRestoreStep.restore(fn, target, first);
    const afterRestore = await keys(isolated.get(S3Client), bucket, 'kura-restore/');
    await logsRestoreStep.cleanup(target, item.resources);

    // Assess
    expect(points.map((p) => p.id)).toEqual(['log-bundles/access/web-1/2025-09/part-001.tar.gz']);
    expect(afterRestore).toEqual([
      'kura-restore/logs/bundles/log-bundles/access/web-1/2025-09/part-001.manifest.json',
      'kura-restore/logs/bundles/log-bundles/access/web-1/2025-09/part-001.tar.gz',
    ]);
    expect((item as unknown as { details: { verified: boolean; members: number } }).details).toMatchObject({
      verified: true,
      members: 11,
    });
    expect(await keys(isolated.get(S3Client), bucket, 'kura-restore/')).toEqual([]);
  });
});
