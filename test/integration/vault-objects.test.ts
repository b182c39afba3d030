// Integration: the one store of kura's own objects in the vault (validation
// records and reports, restore progress, image configuration records) on the
// emulator's locked vault: reads what is there, says "none" only for a missing
// key, states the retention on evidence, and keeps S3's conditional writes.
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ensureVault } from '../../local/vault.ts';
import { isAwsError } from '../../shared/aws/errors.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { S3VaultObjects, VaultStore } from '../../shared/aws/vault-objects.ts';
import { emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';

async function vault() {
  const clients = emulatorClients();
  const suffix = uniqueSuffix();
  const policy = testPolicy((p) => {
    p.vault.bucket = `kura-objects-${suffix}`;
    p.vault.kmsKeyAlias = `alias/kura-objects-${suffix}`;
  });
  await ensureVault(clients, policy);
  return { clients, policy };
}

describe('vault objects', () => {
  it('writes JSON and text, reads them back, lists keys and directories, and says "none" for a missing key', async () => {
    // Prepare
    const { clients, policy } = await vault();
    const objects = new S3VaultObjects(clients, policy.vault.bucket);

    // Act
    await objects.put('a/one.json', { n: 1 });
    await objects.put('a/two.html', '<p>two</p>', { contentType: 'text/html' });
    await objects.put('b/x/three.json', { n: 3 });

    // Assess
    expect(await objects.get('a/one.json')).toEqual({ n: 1 });
    expect(await objects.getText('a/one.json')).toBe('{\n  "n": 1\n}\n');
    expect(await objects.getText('a/two.html')).toBe('<p>two</p>');
    expect(await objects.get('a/none.json')).toBeUndefined();
    expect(await objects.list('a/')).toEqual(['a/one.json', 'a/two.html']);
    expect(await objects.listDirs('')).toEqual(['a', 'b']);
    expect(objects.location('a/one.json')).toBe(`s3://${policy.vault.bucket}/a/one.json`);
  });

  it('refuses to overwrite with ifNoneMatch and with a stale ifMatch, and writes with the current ETag', async () => {
    // Prepare
    const { clients, policy } = await vault();
    const objects = new S3VaultObjects(clients, policy.vault.bucket);
    const first = await objects.put('run/state.json', { v: 1 }, { ifNoneMatch: '*' });

    // Act
    const again = await objects
      .put('run/state.json', { v: 2 }, { ifNoneMatch: '*' })
      .catch((e: unknown) => e);
    const second = await objects.put('run/state.json', { v: 2 }, { ifMatch: first.etag });
    const stale = await objects
      .put('run/state.json', { v: 3 }, { ifMatch: first.etag })
      .catch((e: unknown) => e);

    // Assess
    expect(isAwsError(again, 'preconditionFailed')).toBe(true);
    expect(isAwsError(stale, 'preconditionFailed')).toBe(true);
    expect(second.etag).toBeTruthy();
    expect(await objects.get('run/state.json')).toEqual({ v: 2 });
  });

  it("states the vault's Object Lock retention on evidence the policy's vault writes", async () => {
    // Prepare
    const { clients, policy } = await vault();
    const before = Date.now();

    // Act
    await new VaultStore(clients, policy).put('reports/r.json', { ok: true });

    // Assess
    const r = await clients
      .get(S3Client)
      .send(new HeadObjectCommand({ Bucket: policy.vault.bucket, Key: 'reports/r.json' }));
    expect(r.ObjectLockMode).toBe(policy.vault.objectLock.mode);
    const until = r.ObjectLockRetainUntilDate?.getTime() ?? 0;
    expect(until).toBeGreaterThanOrEqual(before + policy.vault.objectLock.days * 86_400_000 - 1000);
  });

  it('keeps restore progress under restores/<id>/ on the same store', async () => {
    // Prepare
    const { clients, policy } = await vault();
    const store = new S3RestoreStore(clients, policy.vault.bucket);

    // Act
    await store.put('req-1', 'state.json', { phase: 'plan' });
    await store.put('req-1', 'items/0001.json', { done: true });
    await store.put('req-1', 'report.html', '<h1>r</h1>', 'text/html');

    // Assess
    expect(await store.list()).toEqual(['req-1']);
    expect(await store.items('req-1')).toEqual(['0001.json']);
    expect(await store.get('req-1', 'state.json')).toEqual({ phase: 'plan' });
    expect(await store.get('req-1', 'report.html')).toBe('<h1>r</h1>');
    expect(await store.get('req-2', 'state.json')).toBeUndefined();
    expect(await new S3VaultObjects(clients, policy.vault.bucket).get('restores/req-1/state.json')).toEqual({
      phase: 'plan',
    });
  });
});
