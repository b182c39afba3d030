// The restore state machine with logs whose bundle lies in DEEP_ARCHIVE, on the
// emulator's AWS timing: the restore asks S3 to restore the bundle, waits in
// Step Functions (Wait states, an hour at a time, no Lambda running) until S3
// has (up to 12 hours on AWS), then restores and verifies the logs, and its
// report says when the data was asked for and when it would be ready.
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { operatorClients } from '../../local/iam/principals.ts';
import { runRestoreLocally } from '../../local/restore.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { logSeals, sealedLogStore } from '../../shared/aws/seals.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import type { Manifest } from '../../shared/domain/logs/manifest.ts';
import { sealKey } from '../../shared/domain/seals.ts';
import type { RestoreReport } from '../../shared/restore/plan.ts';
import { logBundle } from '../../shared/usecases/log-bundle.ts';
import { clock, emulatorClients } from '../support/emulator.ts';
import { allowedActions, requestsOf } from '../support/iam.ts';
import { accessLog, bytesOf, keys, putLoose } from '../support/logs.ts';
import { restorePolicy } from '../support/restore.ts';

const HOST = 'web-7';
const DAYS = ['2025-09-03', '2025-09-04'];
let deps: Deps;
let clients: Clients;
const logs = new Map<string, string>();

beforeAll(async () => {
  clients = emulatorClients();
  const policy = await restorePolicy(clients, (p) => {
    p.content = [];
  });
  deps = { policy, clients };
  const s3 = clients.get(S3Client);
  const w = { s3, vault: policy.vault.bucket } as Parameters<typeof putLoose>[0];
  // September's logs, archived, then bundled on 1 December.
  for (const [i, day] of DAYS.entries()) {
    const file = `access.log-${day.replaceAll('-', '')}`;
    const body = accessLog(HOST, day, 50, i);
    await putLoose(w, 'access', HOST, day, file, body);
    logs.set(`access/${HOST}/${day}/${file}`, body);
  }
  const bundledAt = new Date('2025-12-01T03:00:00+09:00');
  clock.set(bundledAt);
  const bundled = await logBundle(bundledAt, policy, sealedLogStore(new S3LogStore(clients), policy.vault.bucket));
  expect(bundled.ok).toBe(true);
  // 180 days later the lifecycle has moved the bundle to DEEP_ARCHIVE. (S3 keeps its version
  // id; here a copy in place makes a new version, and the manifest is pointed at it.)
  const manifestKey = (await keys(s3, policy.vault.bucket, 'log-bundles/')).find((k) =>
    k.endsWith('.manifest.json'),
  );
  if (!manifestKey) throw new Error('no manifest');
  const manifest = JSON.parse((await bytesOf(s3, policy.vault.bucket, manifestKey)).toString()) as Manifest;
  const archived = await s3.send(
    new CopyObjectCommand({
      Bucket: policy.vault.bucket,
      Key: manifest.bundle.key,
      CopySource: `${policy.vault.bucket}/${manifest.bundle.key}`,
      StorageClass: 'DEEP_ARCHIVE',
      MetadataDirective: 'COPY',
    }),
  );
  manifest.bundle.versionId = archived.VersionId;
  const repointed = JSON.stringify(manifest);
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: policy.vault.bucket,
      Key: manifestKey,
      Body: repointed,
      ChecksumAlgorithm: 'SHA256',
    }),
  );
  // On AWS the manifest never changes (the transition keeps the version id): its seal is
  // replaced here with one of the re-pointed manifest, as if it had been sealed that way.
  await s3.send(new DeleteObjectCommand({ Bucket: policy.vault.bucket, Key: sealKey(manifestKey, 1) }));
  await logSeals(new S3LogStore(clients), policy.vault.bucket).seal(manifestKey, repointed, put.VersionId);
  clock.set(new Date('2026-06-15T00:00:00Z'));
});

describe('restore state machine (local), logs in an archive storage class', () => {
  it('asks S3 to restore the bundle, waits in Step Functions until it is readable, restores and says when it was ready', async () => {
    // Act
    const started = clock.now();
    const visited: string[] = [];
    const { result: out, requests } = await requestsOf(() =>
      runRestoreLocally(
        {
          reason: 'audit: September access logs',
          logs: [{ class: 'access', host: HOST, from: '2025-09-01', to: '2025-09-30' }],
        },
        { deps, onEvent: (e) => e.type === 'StateEntered' && e.state && visited.push(e.state) },
      ),
    );

    // Assess: it finished, after waiting in Wait states (not in a Lambda) through S3's 12 hours.
    expect(out.status, out.cause).toBe('SUCCEEDED');
    const waits = visited.filter((s) => s === 'WaitLogsItem').length;
    expect(waits).toBeGreaterThanOrEqual(12);
    expect(waits).toBeLessThanOrEqual(13);
    const elapsedHours = (clock.now().getTime() - started.getTime()) / 3_600_000;
    expect(elapsedHours).toBeGreaterThanOrEqual(12);
    expect(elapsedHours).toBeLessThan(14);
    // The report says when the data was asked for and when it would be ready.
    const { requestId } = out.output as { requestId: string };
    const report = await new S3RestoreStore(clients, deps.policy.vault.bucket).get<RestoreReport>(
      requestId,
      'report.json',
    );
    const item = report?.items.find((i) => i.class === 'logs');
    expect(item?.status).toBe('done');
    expect(item?.archive?.requestedAt).toBe(started.toISOString());
    expect(item?.archive?.readyBy).toBe(new Date(started.getTime() + 12 * 3_600_000).toISOString());
    expect(report?.notes).toContainEqual(expect.stringContaining(`ready by about ${item?.archive?.readyBy}`));
    // Every file is back, byte for byte, where the report says.
    const where = /^s3:\/\/([^/]+)\/(.*)$/.exec(item?.endpoint ?? '');
    if (!where) throw new Error(`no restored location in ${item?.endpoint}`);
    const [, bucket, prefix] = where as unknown as [string, string, string];
    // Read back as the isolated account's administrator (its kura-restore trusts only kura's roles).
    const target = await operatorClients(deps.policy.isolatedAccount?.accountId ?? '', clients);
    for (const [path, body] of logs) {
      const got = await target
        .get(S3Client)
        .send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${path.split('/').slice(2).join('/')}` }))
        .then((r) => r.Body?.transformToString())
        .catch(() => undefined);
      expect(got, path).toBe(body);
    }
    // The logs function's own role asked S3 for the archive restore, and its deployed policy allowed it;
    // the plan's role has no such grant and made no such request.
    expect(allowedActions(requests, 'RestoreLogsRole')).toContain('s3:RestoreObject');
    expect(allowedActions(requests, 'RestoreRole')).not.toContain('s3:RestoreObject');
    const asked = requests.find(
      (r) => r.operation === 's3:RestoreObject' || r.operation === 's3:PostRestoreObject',
    );
    expect(asked?.needs.find((n) => n.action === 's3:RestoreObject')?.deciding.join(' ')).toMatch(
      /RestoreArchivedLogBundles/,
    );
  });
});
