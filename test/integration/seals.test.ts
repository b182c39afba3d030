// Integration: manifests, plans and reports are tamper-evident. Each is sealed
// when kura writes it (seals/<key>/NNNNNN.json, If-None-Match, COMPLIANCE
// retention at least the record's); a record changed afterwards (here: a new
// version put over it, as anyone with s3:PutObject on the vault can, lock or
// not) is refused by the restore, the verify, the validation report and the
// report readers with a SealError naming the key and both hashes. A seal
// cannot be overwritten.
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureVault } from '../../local/vault.ts';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { contentBackupPorts, readIndex } from '../../shared/aws/content-generations.ts';
import { isAwsError } from '../../shared/aws/errors.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { vaultRestoreStore } from '../../shared/aws/restore-store.ts';
import {
  contentSeals,
  putSealed,
  sealedLogStore,
  sealedRecords,
  vaultSeals,
} from '../../shared/aws/seals.ts';
import { listReports } from '../../shared/aws/validation-reports.ts';
import { vaultLock } from '../../shared/aws/vault-lock.ts';
import { VaultStore } from '../../shared/aws/vault-objects.ts';
import { vaultLayout } from '../../shared/domain/content.ts';
import { sealKey, sha256Of } from '../../shared/domain/seals.ts';
import { verifyChain } from '../../shared/domain/validation-report.ts';
import { executeLogRestore, planLogRestore } from '../../shared/restore/log-files.ts';
import { restoreGeneration, verifyGeneration } from '../../shared/restore/content-generation.ts';
import { contentBackup } from '../../shared/usecases/content-backup.ts';
import { logBundle } from '../../shared/usecases/log-bundle.ts';
import { type RestorePorts, writeReport } from '../../shared/usecases/restore.ts';
import { planKey, reportKey } from '../../shared/usecases/validation/records.ts';
import { reportValidation } from '../../shared/usecases/validation/report.ts';
import type { ValidationPorts } from '../../shared/usecases/validation/records.ts';
import { contentFixture, putSource } from '../support/content.ts';
import { runKura } from '../support/kura-cli.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { accessLog, logsWorld, putLoose } from '../support/logs.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';

const clients = emulatorClients();
const s3 = clients.get(S3Client);
const day = (n: number) => new Date(Date.UTC(2026, 10, 1 + n, 20, 30)); // 05:30 Tokyo on Nov 2+n

async function text(bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString('utf8')) ?? '';
}

/** Tampering: a new version over the record (Object Lock keeps the old one, but it is no longer current). */
async function overwrite(bucket: string, key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ChecksumAlgorithm: 'SHA256' }));
}

async function retainUntil(bucket: string, key: string): Promise<{ mode?: string; until: number }> {
  const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return { mode: h.ObjectLockMode, until: h.ObjectLockRetainUntilDate?.getTime() ?? 0 };
}

async function lockedVault() {
  const suffix = uniqueSuffix();
  const policy = testPolicy((p) => {
    p.vault.bucket = `kura-seals-${suffix}`;
    p.vault.kmsKeyAlias = `alias/kura-seals-${suffix}`;
  });
  await ensureVault(clients, policy);
  return policy;
}

describe('content generations', () => {
  it('seals the index (locked as long as it, or longer) and refuses a changed one in backup, restore and verify', async () => {
    // Prepare: one generation of 3 objects, written with the vault's locks.
    const f = await contentFixture(clients);
    for (let i = 0; i < 3; i++) await putSource(clients, f, `img-${i}.png`, { body: `image ${i}` });
    const port = new S3ContentAdapter(clients, undefined, vaultLock(f.policy));
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));
    const vault = f.policy.vault.bucket;
    const indexKey = vaultLayout.indexKey(f.policy, f.name, '2026-11-02');
    const original = await text(vault, indexKey);
    const seal = JSON.parse(await text(vault, sealKey(indexKey, 1)));
    const index = await retainUntil(vault, indexKey);
    const sealLock = await retainUntil(vault, sealKey(indexKey, 1));

    // Act: the index rewritten to name one object fewer.
    const forged = JSON.parse(original);
    forged.objects -= 1;
    await overwrite(vault, indexKey, JSON.stringify(forged));
    const found = sha256Of(JSON.stringify(forged));

    // Assess: the seal holds the original's hash, locked COMPLIANCE at least as long as the index.
    expect(seal).toMatchObject({ key: indexKey, sha256: sha256Of(original), seq: 1 });
    expect(sealLock.mode).toBe('COMPLIANCE');
    expect(sealLock.until).toBeGreaterThanOrEqual(index.until);
    const refusal = { name: 'SealError', key: indexKey, problem: 'mismatch', expected: seal.sha256, found };
    await expect(readIndex(port, f.policy, f.name, '2026-11-02')).rejects.toMatchObject(refusal);
    await expect(
      restoreGeneration(vaultContent(port, f.policy), port, f.policy, {
        source: f.name,
        generation: '2026-11-02',
        to: { bucket: f.sourceBucket, prefix: 'restored/' },
      }),
    ).rejects.toMatchObject(refusal);
    await expect(
      verifyGeneration(vaultContent(port, f.policy), f.policy, { source: f.name, generation: '2026-11-02' }),
    ).rejects.toMatchObject(refusal);
    // The next day's backup trusts the previous generation only as sealed.
    await expect(contentBackup(day(1), f.policy, contentBackupPorts(port, f.policy))).resolves.toMatchObject({
      ok: false,
    });
    const message = String(
      (await contentBackup(day(1), f.policy, contentBackupPorts(port, f.policy))).targets[0]?.error
        ?.message ?? '',
    );
    expect(message).toContain(`expected sha256 ${seal.sha256}`);
    expect(message).toContain(`found ${found}`);
  });

  it('never overwrites a seal: S3 refuses a second one at the key (If-None-Match), and kura refuses other bytes', async () => {
    // Prepare
    const f = await contentFixture(clients);
    await putSource(clients, f, 'a.png', { body: 'a' });
    const port = new S3ContentAdapter(clients, undefined, vaultLock(f.policy));
    await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));
    const vault = f.policy.vault.bucket;
    const indexKey = vaultLayout.indexKey(f.policy, f.name, '2026-11-02');
    const before = await text(vault, sealKey(indexKey, 1));

    // Act
    const second = await s3
      .send(
        new PutObjectCommand({
          Bucket: vault,
          Key: sealKey(indexKey, 1),
          Body: before.replace(/"sha256": "[0-9a-f]+"/, `"sha256": "${'0'.repeat(64)}"`),
          IfNoneMatch: '*',
          ChecksumAlgorithm: 'SHA256',
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const resealed = contentSeals(port, vault).seal(indexKey, '{"forged":true}');

    // Assess
    expect(isAwsError(second, 'preconditionFailed'), String(second)).toBe(true);
    await expect(resealed).rejects.toMatchObject({ name: 'SealError', problem: 'conflict', key: indexKey });
    expect(await text(vault, sealKey(indexKey, 1))).toBe(before);
    // Sealing the same bytes again is a no-op (a retried write).
    await expect(
      contentSeals(port, vault).seal(indexKey, await text(vault, indexKey)),
    ).resolves.toMatchObject({
      seq: 1,
    });
  });

  it('refuses a generation whose index was never sealed, and seals one a run wrote but stopped before sealing', async () => {
    // Prepare: a generation whose seal is missing (as after a crash between the two writes).
    const f = await contentFixture(clients);
    await putSource(clients, f, 'a.png', { body: 'a' });
    const port = new S3ContentAdapter(clients, undefined, vaultLock(f.policy));
    const indexKey = vaultLayout.indexKey(f.policy, f.name, '2026-11-02');
    const noSeal = new Proxy(port, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop !== 'put' || typeof v !== 'function') return v;
        return (bucket: string, key: string, ...rest: unknown[]) => {
          if (key === sealKey(indexKey, 1)) throw new Error('crashed before the seal');
          return v.apply(target, [bucket, key, ...rest]);
        };
      },
    });
    const crashed = await contentBackup(day(0), f.policy, contentBackupPorts(noSeal, f.policy));

    // Act
    const unsealed = await readIndex(port, f.policy, f.name, '2026-11-02').catch((e: unknown) => e);
    const rerun = await contentBackup(day(0), f.policy, contentBackupPorts(port, f.policy));

    // Assess
    expect(crashed.ok).toBe(false);
    expect(unsealed).toMatchObject({ name: 'SealError', problem: 'unsealed', key: indexKey });
    expect(rerun.targets[0]).toMatchObject({ status: 'skipped', complete: true });
    await expect(readIndex(port, f.policy, f.name, '2026-11-02')).resolves.toMatchObject({ objects: 1 });
  });
});

describe('log bundle manifests', () => {
  it('are sealed; a changed manifest is refused by the restore and never drives the removal of originals', async () => {
    // Prepare: September of web-1 bundled on December 1st.
    const w = await logsWorld();
    const store = new S3LogStore(clients, vaultLock(w.policy));
    for (const d of ['2025-09-01', '2025-09-02']) {
      await putLoose(w, 'access', 'web-1', d, `access.log-${d.replace(/-/g, '')}`, accessLog('web-1', d, 20));
    }
    const bundled = await logBundle(
      new Date('2025-12-01T03:00:00+09:00'),
      w.policy,
      sealedLogStore(store, w.policy.vault.bucket),
    );
    expect(bundled.ok).toBe(true);
    const key = 'log-bundles/access/web-1/2025-09/part-001.manifest.json';
    const original = await text(w.vault, key);
    const seal = JSON.parse(await text(w.vault, sealKey(key, 1)));

    // Act: the manifest rewritten (a member's hash changed), then a restore and a late original.
    const forged = original.replace(
      /"sha256": "([0-9a-f])/,
      (_m, c) => `"sha256": "${c === '0' ? '1' : '0'}`,
    );
    await overwrite(w.vault, key, forged);
    const request = { logClass: 'access', host: 'web-1', from: '2025-09-01', to: '2025-09-02' };
    const restore = await planLogRestore(w.policy, sealedLogStore(store, w.policy.vault.bucket), request)
      .then((plan) => executeLogRestore(w.policy, store, plan, { write: async () => undefined } as never))
      .catch((e: unknown) => e);
    await putLoose(w, 'access', 'web-1', '2025-09-03', 'access.log-20250903', 'late\n');
    const again = await logBundle(
      new Date('2026-01-01T03:00:00+09:00'),
      w.policy,
      sealedLogStore(store, w.policy.vault.bucket),
    );

    // Assess
    expect(seal).toMatchObject({ key, sha256: sha256Of(original) });
    expect(restore).toMatchObject({
      name: 'SealError',
      key,
      problem: 'mismatch',
      expected: sha256Of(original),
      found: sha256Of(forged),
    });
    expect(again.ok).toBe(false);
    expect(JSON.stringify(again)).toContain('SealError');
  });
});

describe('restore records', () => {
  it('seal the plan, the approval and the report; a changed plan stops the restore tasks', async () => {
    // Prepare
    const policy = await lockedVault();
    const store = vaultRestoreStore(clients, policy);
    const plan = { requestId: 'req-seal-1', reason: 'INC-7', createdAt: '2026-11-02T00:00:00Z', items: [] };
    await store.put('req-seal-1', 'plan.json', plan);
    await store.put('req-seal-1', 'state.json', { requestId: 'req-seal-1', plan, runs: [] });
    await store.put('req-seal-1', 'approval.json', {
      status: 'pending',
      requestedAt: '2026-11-02T00:00:00Z',
    });
    await store.put('req-seal-1', 'approval.json', { status: 'approved', by: 'oncall-1' });
    const vault = policy.vault.bucket;

    // Act
    await overwrite(
      vault,
      'restores/req-seal-1/plan.json',
      JSON.stringify({ ...plan, items: [{ key: 'x' }] }),
    );
    const report = await writeReport({ requestId: 'req-seal-1' }, new Date(), {
      store,
    } as unknown as RestorePorts).catch((e: unknown) => e);

    // Assess: the approval is a chain (pending, then decided), locked for the reports' years.
    expect(await store.get('req-seal-1', 'approval.json')).toMatchObject({ status: 'approved' });
    expect(JSON.parse(await text(vault, sealKey('restores/req-seal-1/approval.json', 2)))).toMatchObject({
      seq: 2,
      previous: sha256Of(
        `${JSON.stringify({ status: 'pending', requestedAt: '2026-11-02T00:00:00Z' }, null, 2)}\n`,
      ),
    });
    const approvalLock = await retainUntil(vault, 'restores/req-seal-1/approval.json');
    expect(approvalLock.mode).toBe('COMPLIANCE');
    expect(approvalLock.until).toBeGreaterThan(Date.now() + 6 * 365 * 86_400_000);
    expect(report).toMatchObject({
      name: 'SealError',
      key: 'restores/req-seal-1/plan.json',
      problem: 'mismatch',
    });
  });
  it('a reader landing between a rewrite and its seal waits for the seal; bytes that stay unsealed are refused', async () => {
    // Prepare: a pending approval, sealed; then the decision written but not yet sealed (the writer's second PUT is in flight).
    const policy = await lockedVault();
    const store = vaultRestoreStore(clients, policy);
    const id = 'req-midwrite-1';
    const key = `restores/${id}/approval.json`;
    await store.put(id, 'approval.json', { status: 'pending', requestedAt: '2026-11-02T00:00:00Z' });
    const decided = `${JSON.stringify({ status: 'approved', by: 'oncall-2' }, null, 2)}\n`;
    await overwrite(policy.vault.bucket, key, decided);

    // Act: read while the seal lands 100 ms later; then a second rewrite that is never sealed.
    const reading = store.get(id, 'approval.json');
    await new Promise((r) => setTimeout(r, 100));
    await vaultSeals(new VaultStore(clients, policy)).seal(key, decided);
    const read = await reading;
    await overwrite(
      policy.vault.bucket,
      key,
      `${JSON.stringify({ status: 'approved', by: 'intruder' }, null, 2)}\n`,
    );
    const refused = await store.get(id, 'approval.json').catch((e: unknown) => e);

    // Assess
    expect(read).toMatchObject({ status: 'approved', by: 'oncall-2' });
    expect(refused).toMatchObject({ name: 'SealError', key, problem: 'mismatch' });
  });
});

describe('kura restore approve', () => {
  it("records the decision with the restore records' lock (the reports' years), sealed after the pending request", async () => {
    // Prepare: a restore waiting for a second person.
    const policy = await lockedVault();
    const store = vaultRestoreStore(clients, policy);
    const id = 'req-approve-1';
    await store.put(id, 'approval.json', { status: 'pending', requestedAt: '2026-11-02T00:00:00Z' });
    const file = join(mkdtempSync(join(tmpdir(), 'kura-policy-')), 'policy.json');
    writeFileSync(file, JSON.stringify(policy)); // JSON is YAML

    // Act
    const out = await runKura([
      '--policy',
      file,
      'restore',
      'approve',
      id,
      '--yes',
      '--by',
      'second-engineer',
    ]);

    // Assess
    expect(out.code, out.stderr).toBe(0);
    const key = `restores/${id}/approval.json`;
    const lock = await retainUntil(policy.vault.bucket, key);
    expect(lock.mode).toBe('COMPLIANCE');
    expect(lock.until).toBeGreaterThan(Date.now() + 6 * 365 * 86_400_000);
    expect(await store.get(id, 'approval.json')).toMatchObject({ status: 'approved', by: 'second-engineer' });
    expect(JSON.parse(await text(policy.vault.bucket, sealKey(key, 2)))).toMatchObject({
      seq: 2,
      sha256: sha256Of(await text(policy.vault.bucket, key)),
    });
  });
});

describe('validation reports', () => {
  it('a changed plan makes the report a FAIL that says so; a changed report breaks the chain check', async () => {
    // Prepare: a run with nothing planned, its plan sealed; a second run's report.
    const policy = await lockedVault();
    const vault = new VaultStore(clients, policy);
    const deps = { policy, clients };
    const ports = {
      vault,
      sealed: sealedRecords(vault),
      markValidated: async () => false,
    } as unknown as ValidationPorts;
    const runId = '202611010900';
    const plan = { runId, time: '2026-11-01T00:00:00Z', items: [], nothing: [], configured: [] };
    await putSealed(vault, planKey(policy, runId), plan);
    await overwrite(policy.vault.bucket, planKey(policy, runId), JSON.stringify({ ...plan, items: [] }));

    // Act
    const { report } = await reportValidation(deps, ports, { runId, time: '2026-11-01T00:00:00Z' });
    const key = reportKey(policy, runId);
    const chainBefore = verifyChain(await listReports(deps, vault));
    await overwrite(policy.vault.bucket, key, (await text(policy.vault.bucket, key)).replace('FAIL', 'PASS'));
    const chainAfter = verifyChain(await listReports(deps, vault));

    // Assess
    expect(report.verdict).toBe('FAIL');
    expect(report.problems.join('\n')).toMatch(
      /plan is not trusted: .*plan\.json: seal check failed \(mismatch\): expected sha256/,
    );
    expect(await vaultSeals(vault).current(key)).toMatchObject({ seq: 1 });
    expect(chainBefore.ok).toBe(true);
    expect(chainAfter.ok).toBe(false);
    expect(chainAfter.problems[0]).toContain(`${key}: ${key}: seal check failed (mismatch)`);
  });
});
