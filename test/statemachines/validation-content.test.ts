import { asFunction } from '../../local/iam/principals.ts';
// The validation state machine over the content class: a generation's sample
// is copied into the isolated bucket and re-read against the manifest; a
// vault object whose bytes rotted is named in the report.
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { validationContent } from '../support/functions.ts';
import { type LocalTask, runStateMachine } from '../../local/state-machine-runner.ts';
import { type ContentPort, S3ContentAdapter } from '../../shared/aws/content.ts';
import { contentBackupPorts } from '../../shared/aws/content-generations.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { runJobShard } from '../../shared/restore/content-sharded.ts';
import type { ContentShardItem } from '../../shared/usecases/content-restore-shards.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { readFromIsolated } from '../../shared/aws/isolated-account.ts';
import { VaultStore } from '../../shared/aws/vault-objects.ts';
import type { ValidationReport } from '../../shared/domain/validation-report.ts';
import { connectIsolated } from '../../shared/restore/isolated-network.ts';
import { listManagedInIsolated } from '../../shared/aws/isolated-leftovers.ts';
import { contentBackup } from '../../shared/usecases/content-backup.ts';
import { reportKey } from '../../shared/usecases/validation.ts';
import type { CheckPorts } from '../../shared/validation/checks/types.ts';
import { uniqueSuffix } from '../support/emulator.ts';
import { validationDeps, validationPolicy } from '../support/validation-fixture.ts';
import { isolatedBucketName } from '../../shared/aws/isolated-storage.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';

const BACKUP_TIME = new Date('2026-10-31T20:30:00Z'); // 05:30 Tokyo, 1 November
const NAME = `site-${uniqueSuffix()}`;
const KEYS = ['a.png', 'b.png', 'c/d.png', 'e.txt'];

async function reportOf(deps: Deps, runId: string): Promise<ValidationReport> {
  const body = await new VaultStore(deps.clients, deps.policy).getText(reportKey(deps.policy, runId));
  if (!body) throw new Error(`no report for ${runId}`);
  return JSON.parse(body) as ValidationReport;
}

describe('validation state machine, content class', () => {
  let deps: Deps & { topicArn: string };
  const sns: Record<string, LocalTask> = {
    'arn:aws:states:::sns:publish': async () => ({ MessageId: 'local' }),
  };
  const check = (ports: CheckPorts): Record<string, LocalTask> => ({
    CheckContent: (input, d) => validationContent(input, d, { ports }),
  });

  beforeAll(async () => {
    const source = `kura-src-${uniqueSuffix()}`;
    deps = await validationDeps(
      validationPolicy((p) => {
        p.database = undefined;
        p.content = [{ name: NAME, source: `s3://${source}/img/`, generations: 7 }];
      }),
    );
    const s3 = deps.clients.get(S3Client);
    await s3.send(
      new CreateBucketCommand({
        Bucket: source,
        CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-1' },
      }),
    );
    for (const k of KEYS)
      await s3.send(new PutObjectCommand({ Bucket: source, Key: `img/${k}`, Body: `the bytes of ${k}` }));
    const r = await contentBackup(
      BACKUP_TIME,
      deps.policy,
      contentBackupPorts(new S3ContentAdapter(deps.clients), deps.policy),
    );
    if (!r.ok) throw new Error(`fixture backup failed: ${JSON.stringify(r.targets)}`);
  });

  it('passes when every restored object matches the manifest, and the isolated bucket is empty afterwards', async () => {
    // Act
    const out = await runStateMachine(
      'validation',
      { time: '2026-11-01T00:00:00Z' },
      { deps, integrations: sns },
    );

    // Assess
    expect(out.status).toBe('SUCCEEDED');
    const report = await reportOf(deps, '202611010000');
    const item = report.items.find((i) => i.class === 'content');
    expect(item).toMatchObject({ source: NAME, status: 'pass', recoveryPoint: { id: '2026-11-01' } });
    expect(item?.checks.find((c) => c.name === 'restored objects')?.detail).toContain('4 restored of 4');
    expect(item?.checks.find((c) => c.name === 'sha256')).toMatchObject({
      status: 'pass',
      detail: '4 object(s) match the manifest',
    });
    expect(out.visited.filter((s) => s === 'ContentShardVerified')).toHaveLength(1);
    expect(item?.checks.find((c) => c.name === 'vault verify')).toMatchObject({
      status: 'pass',
      detail:
        '4 object(s) of the generation re-read in the vault (1 shard(s)): every SHA-256 matches the manifest',
    });
    const target = await connectIsolated(await asFunction('validation-step', deps));
    const left = await target.clients
      .get(S3Client)
      .send(new ListObjectsV2Command({ Bucket: isolatedBucketName(target.accountId, target.region) }));
    expect(left.Contents ?? []).toEqual([]);
    expect(await listManagedInIsolated(target)).toEqual([]);
  });

  it('fails and names the object when a vault object is corrupted', async () => {
    // Prepare: bit rot in one stored object. The emulator cannot alter a stored
    // version, and a server-side copy carries the vault's bytes as they are, so
    // the read of the restored copy is wrapped to flip one bit of c/d.png.
    const ports: CheckPorts = {
      readObject: async function* (target, bucket, key) {
        for await (const chunk of readFromIsolated(target, bucket, key)) {
          const b = Buffer.from(chunk);
          if (key.endsWith('c/d.png')) b[0] = (b[0] ?? 0) ^ 0x01;
          yield b;
        }
      },
    };

    // Act
    const out = await runStateMachine(
      'validation',
      { time: '2026-12-01T00:00:00Z' },
      { deps, taskOverrides: check(ports), integrations: sns },
    );

    // Assess
    expect(out.status).toBe('FAILED');
    expect(out.visited).toEqual([
      'Plan',
      'ContentVerifyItems',
      'ContentVerify',
      'VerifyContentShard',
      'ContentShardVerified?',
      'ContentShardVerified',
      'Validate',
      'ItemClass',
      'RestoreContent',
      'CheckContent',
      'CleanupContent',
      'Report',
      'Verdict',
      'NotifyFailure',
      'Failed',
    ]);
    const report = await reportOf(deps, '202612010000');
    expect(report.verdict).toBe('FAIL');
    const item = report.items.find((i) => i.class === 'content');
    expect(item?.status).toBe('fail');
    expect(item?.reason).toMatch(/^object c\/d\.png: SHA-256 .* manifest says .*corrupted/);
    expect(item?.checks.find((c) => c.name === 'sha256')?.detail).toBe('1 of 4 do not match: c/d.png');
    expect(report.summary).toContain('c/d.png');
    expect(item?.cleanup.status).toBe('done');
    expect(report.leftovers).toEqual([]);
  });

  it('fails the vault verify and names the object when a vault version changed, the sample passing', async () => {
    // Prepare: the vault's bytes of e.txt read back changed (the emulator cannot alter a
    // stored version, so the verify child's vault reads are wrapped).
    const verifyChild: LocalTask = async (input, d) => {
      const fn = await asFunction('content-restore-shard', d);
      const real = new S3ContentAdapter(fn.clients);
      const rotten: ContentPort = Object.assign(Object.create(real) as ContentPort, {
        read: async function* (ref: Parameters<ContentPort['read']>[0]) {
          for await (const chunk of real.read(ref)) {
            const b = Buffer.from(chunk);
            if (ref.key.endsWith('e.txt')) b[0] = (b[0] ?? 0) ^ 0x01;
            yield b;
          }
        },
      });
      const { item } = input as { item: ContentShardItem };
      const store = new S3RestoreStore(fn.clients, fn.policy.vault.bucket);
      const r = await runJobShard(
        { vault: vaultContent(rotten, fn.policy), target: rotten, store },
        fn.policy,
        item.job,
        item.shard,
      );
      return { complete: r.complete };
    };

    // Act
    const out = await runStateMachine(
      'validation',
      { time: '2027-01-01T00:00:00Z' },
      { deps, taskOverrides: { VerifyContentShard: verifyChild }, integrations: sns },
    );

    // Assess
    expect(out.status).toBe('FAILED');
    const report = await reportOf(deps, '202701010000');
    const item = report.items.find((i) => i.class === 'content');
    expect(item?.status).toBe('fail');
    expect(item?.checks.find((c) => c.name === 'sha256')?.status).toBe('pass');
    expect(item?.checks.find((c) => c.name === 'vault verify')).toMatchObject({
      status: 'fail',
      value: 1,
    });
    expect(item?.checks.find((c) => c.name === 'vault verify')?.detail).toMatch(
      /^1 of 4 object\(s\) in the vault do not match the manifest: e\.txt \(SHA-256 /,
    );
  });
});
