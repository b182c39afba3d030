// The `kura` command as a person or a script runs it: a child process.

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { run as rdsSnapshot } from '../../functions/rds-snapshot/handler.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { clock, emulatorClients, testPolicy, uniqueSuffix } from '../support/emulator.ts';
import { runKura as kura } from '../support/kura-cli.ts';
import { ROOT } from '../support/packaged-template.ts';
import { createDatabase } from '../support/rds.ts';

let clients: Clients;

async function policyFile(): Promise<{ file: string; db: string }> {
  const policy = testPolicy((p) => {
    if (p.database) {
      p.database.copy = undefined;
      p.database.shareWithIsolatedAccount = false;
    }
  });
  const db = `cli-${uniqueSuffix()}`;
  await createDatabase(
    clients,
    db,
    { [policy.selector.tagKey]: policy.selector.tagValue },
    { Engine: 'postgres' },
  );
  const file = join(tmpdir(), `kura-cli-${db}.yml`);
  writeFileSync(file, stringify(policy));
  return { file, db };
}

beforeAll(() => {
  clients = emulatorClients();
});

describe('kura invoke', () => {
  it('runs a handler in-process for the given time and prints its JSON result', async () => {
    const { file, db } = await policyFile();

    const r = await kura([
      '--policy',
      file,
      'invoke',
      'rds-snapshot',
      '--time',
      '2026-11-01T04:00:00+09:00',
      '--yes',
    ]);

    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ function: 'rds-snapshot', time: '2026-10-31T19:00:00.000Z', ok: true });
    expect(result.targets[0]).toMatchObject({ target: db, snapshot: `kura-${db}-202610311900` });
  });

  it('exits non-zero when a target fails, still printing the result', async () => {
    const { file, db } = await policyFile();
    await clients.get(RDSClient).send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: db,
        DBSnapshotIdentifier: `kura-${db}-202610311900`,
      }),
    );

    const r = await kura([
      '--policy',
      file,
      'invoke',
      'rds-snapshot',
      '--time',
      '2026-10-31T19:00:00Z',
      '--yes',
    ]);

    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).targets[0].status).toBe('failed');
  });

  it('refuses to change anything without --yes when there is no terminal to ask on', async () => {
    const { file, db } = await policyFile();

    const r = await kura(['--policy', file, 'invoke', 'rds-snapshot', '--time', '2026-10-31T19:00:00Z']);

    expect(r.code).toBe(2);
    expect(r.stderr).toContain('re-run with --yes');
    const snaps = await clients
      .get(RDSClient)
      .send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: db, SnapshotType: 'manual' }));
    expect(snaps.DBSnapshots).toEqual([]);
  });

  it('names a bad --time and an unknown function without a stack trace', async () => {
    const bad = await kura(['invoke', 'rds-snapshot', '--time', 'yesterday', '--yes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--time: found "yesterday"; expected an ISO-8601 time');
    expect(bad.stderr).not.toMatch(/\bat .*\.ts:\d+/);

    const unknown = await kura(['invoke', 'rds-snapshots', '--time', '2026-10-31T19:00:00Z', '--yes']);
    expect(unknown.stderr).toContain('function "rds-snapshots" is unknown; expected one of');
  });

  it('reports an invalid policy with its key path before touching anything', async () => {
    const file = join(tmpdir(), `kura-bad-policy-${uniqueSuffix()}.yml`);
    writeFileSync(file, 'version: 1\ntimezone: Mars/Olympus\n');

    const r = await kura([
      '--policy',
      file,
      'invoke',
      'rds-snapshot',
      '--time',
      '2026-10-31T19:00:00Z',
      '--yes',
    ]);

    expect(r.code).toBe(2);
    expect(r.stderr).toContain('timezone: found string "Mars/Olympus"; expected an IANA time zone');
    expect(r.stderr).toContain('vault: missing');
  });
});

describe('kura restore start (on AWS, no --local)', () => {
  it('runs every check that can refuse the restore, the deployed state machine too, before asking', async () => {
    // Prepare: a database with a kura snapshot; no restore state machine is deployed in the emulator.
    const { file, db } = await policyFile();
    clock.set(new Date('2026-11-21T19:00:00Z'));
    await rdsSnapshot(syntheticScheduledEvent(new Date('2026-11-21T19:00:00Z')), {
      policy: loadPolicy(file),
      clients,
    });
    // The restore is asked for now, after AWS finished the snapshot.
    clock.set(new Date());
    // Act: no --yes and no terminal: before the fix the question came first.
    const r = await kura([
      '--policy',
      file,
      'restore',
      'start',
      '--database',
      db,
      '--reason',
      'confirm after the checks',
    ]);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('state machine kura-restore-prod is not deployed in ap-northeast-1');
    expect(r.stderr).not.toContain('re-run with --yes');
    // Without the isolated account's profile its checks are left to the Plan step, and it says so.
    expect(r.stderr).toContain('quotas and isolation not checked here (give --isolated-profile');
    // The plan shows times in the policy's zone next to UTC.
    expect(r.stderr).toContain('2026-11-22 04:00 Asia/Tokyo (2026-11-21 19:00 UTC)');
  });
});

describe('kura --help', () => {
  it('names as the default policy the file kura really reads', async () => {
    const help = await kura(['--help'], { KURA_POLICY: '' });
    const check = await kura(['policy', 'check'], { KURA_POLICY: '' });
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      `default: $KURA_POLICY, else ${join(ROOT, 'backup-policy.yml')}`,
    );
    expect(check.stdout).toBe(`${join(ROOT, 'backup-policy.yml')}: valid\n`);
  });

  it.each([
    [[]],
    [['invoke']],
    [['run']],
    [['demo']],
    [['policy']],
    [['report']],
    [['restore']],
    [['verify']],
  ])('prints help for %j', async (cmd) => {
    const r = await kura([...cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kura/);
  });

  it('says which prerequisite is missing when there is no Python to run the emulator', async () => {
    const r = await kura(['demo', '--days', '1'], {
      AWS_ENDPOINT_URL: '',
      KURA_PYTHON: '/nonexistent/python3',
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('/nonexistent/python3 was not found on PATH');
    expect(r.stderr).toContain("pip install 'moto[server]>=5.2,<5.3'");
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('says which prerequisite is missing when Python has no moto', async () => {
    // A Python that sees no site-packages: moto cannot be imported.
    const python = join(tmpdir(), `kura-python-without-moto-${uniqueSuffix()}`);
    writeFileSync(python, '#!/bin/sh\nexec python3 -S "$@"\n', { mode: 0o755 });
    const r = await kura(['demo', '--days', '1'], { AWS_ENDPOINT_URL: '', KURA_PYTHON: python });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("kura-emulator: cannot import moto (No module named 'moto')");
    expect(r.stderr).toContain("pip install 'moto[server]>=5.2,<5.3'");
  });
});
