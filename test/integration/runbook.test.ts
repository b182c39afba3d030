// The on-call runbook (docs/runbook.md), tried end to end on the emulator:
// every `npx kura` command of its `sh` blocks runs through the real `kura`
// process, in the order written, against an emulator of its own (so that the
// reference policy's names, shop-db, app1-images, the vault, are the
// runbook's); the `text` block under a command block is the output it must
// show, line by line in order (`…` stands for what differs from run to run).
// Commands for a person or for AWS itself (Session Manager, mysql, starting
// the emulator) are shown but not run. Every command runs on this file's
// simulated clock and hands it back (test/support/kura-cli.ts): a restore's
// waits move the time the next command starts at, as they would on AWS. `<!-- runbook-test: … -->` comments mark what
// the incident itself does (a database deleted, images deleted) and where a
// local MariaDB stands in for the Session Manager port forward.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { type Emulator, startEmulator } from '../../local/emulator.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { pitrWindow } from '../../shared/aws/rds-pitr.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { zoneOffset } from '../../shared/policy/calendar.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import type { RestoreReport } from '../../shared/restore/plan.ts';
import { estatePorts } from '../../shared/edge/report-ports.ts';
import { inventory } from '../../shared/usecases/inventory.ts';
import { clock } from '../support/emulator.ts';
import { type Ran, runKura } from '../support/kura-cli.ts';
import { addReader, type MariaDb, startMariaDb } from '../support/mariadb.ts';
import { ROOT } from '../support/packaged-template.ts';
import { tool, toolOrSkip } from '../support/tools.ts';

interface Block {
  lines: string[];
  expected?: string[];
  hooks: string[];
}
interface Section {
  title: string;
  blocks: Block[];
}

/** The runbook's sections, each with its `sh` blocks, their expected output and the hooks before them. */
function parseRunbook(text: string): Section[] {
  const sections: Section[] = [];
  let hooks: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('## ')) sections.push({ title: line.slice(3), blocks: [] });
    const hook = /<!-- runbook-test: (.*) -->/.exec(line);
    if (hook?.[1]) hooks.push(hook[1]);
    const fence = /^\s*```(\w+)\s*$/.exec(line);
    if (!fence) continue;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i] ?? ''); i++)
      body.push((lines[i] ?? '').trim());
    const section = sections.at(-1);
    if (!section) continue;
    if (fence[1] === 'sh') {
      section.blocks.push({ lines: body, hooks });
      hooks = [];
    } else if (fence[1] === 'text') {
      const last = section.blocks.at(-1);
      if (last && !last.expected) last.expected = body.filter((l) => l.trim());
    }
  }
  return sections;
}

/** Shell words of one command line: quotes, $VAR and "$VAR", a trailing # comment. */
function words(line: string, vars: Record<string, string>): { args: string[]; comment: string } {
  const args: string[] = [];
  let cur = '';
  let started = false;
  let i = 0;
  const expand = (s: string) => s.replace(/\$([A-Z_][A-Z0-9_]*)/g, (_, v: string) => vars[v] ?? '');
  while (i < line.length) {
    const c = line[i] as string;
    if (c === '#' && !started) return { args, comment: line.slice(i + 1).trim() };
    if (/\s/.test(c)) {
      if (started) args.push(cur);
      cur = '';
      started = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      cur += line.slice(i + 1, end);
      started = true;
      i = end + 1;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      cur += expand(line.slice(i + 1, end));
      started = true;
      i = end + 1;
    } else {
      const m = /^[^\s'"]+/.exec(line.slice(i))?.[0] ?? c;
      cur += expand(m);
      started = true;
      i += m.length;
    }
  }
  if (started) args.push(cur);
  return { args, comment: '' };
}

const normal = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Each expected line appears in the output, in order; `…` matches anything. */
function expectShown(output: string, expected: string[], vars: Record<string, string>, what: string): void {
  const out = output.split('\n').map(normal);
  let at = 0;
  for (const e of expected) {
    const text = normal(e.replace(/\$([A-Z_][A-Z0-9_]*)/g, (_, v: string) => vars[v] ?? ''));
    const re = new RegExp(
      text
        .split('…')
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*?'),
    );
    const found = out.findIndex((l, n) => n >= at && re.test(l));
    expect(
      found,
      `${what}: expected the line\n  ${text}\nafter line ${at} of the output:\n${output}`,
    ).toBeGreaterThanOrEqual(0);
    at = found;
  }
}

const HUMAN_ONLY = /^(aws|mysql|python3)\b/;

describe('the on-call runbook, end to end on the emulator', () => {
  const sections = parseRunbook(readFileSync(join(ROOT, 'docs/runbook.md'), 'utf8'));
  let emulator: Emulator;
  let maria: MariaDb | undefined;
  let clients: Clients;
  const policy = loadPolicy(join(ROOT, 'backup-policy.yml'));
  const vars: Record<string, string> = {};
  const overrides: Record<string, string> = {};
  const skipped: string[] = [];
  const ran: string[] = [];
  let credentialsFile = '';

  beforeAll(async () => {
    emulator = await startEmulator();
    // Every command talks to this emulator, from the first one on: never to anything off loopback.
    overrides.AWS_ENDPOINT_URL = emulator.endpoint;
    vars.AWS_ENDPOINT_URL = emulator.endpoint;
    clients = new Clients({
      region: policy.region,
      ...clock.clientOptions(emulator.endpoint),
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    // The runbook's kura-isolated profile: the isolated account's administrator (a role of that
    // account's stack), in a credentials file of this test's own, never the user's.
    const { Credentials: c } = await clients.sts().send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${policy.isolatedAccount?.accountId}:role/kura-admin`,
        RoleSessionName: 'on-call',
      }),
    );
    credentialsFile = join(mkdtempSync(join(tmpdir(), 'kura-runbook-')), 'credentials');
    writeFileSync(
      credentialsFile,
      `[kura-isolated]\naws_access_key_id = ${c?.AccessKeyId}\naws_secret_access_key = ${c?.SecretAccessKey}\naws_session_token = ${c?.SessionToken}\n`,
    );
  });
  afterAll(async () => {
    await maria?.stop();
    await emulator?.stop();
  });

  /** What the incident does, and the stand-in for the port forward. */
  async function hook(name: string): Promise<void> {
    if (name === 'delete database shop-db') {
      await clients
        .get(RDSClient)
        .send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'shop-db', SkipFinalSnapshot: true }));
    } else if (name.startsWith('delete images ')) {
      const m = /^delete images (.*) from ([^/]+)\/(.*)$/.exec(name);
      for (const key of m?.[1]?.split(' ') ?? [])
        await clients.get(S3Client).send(new DeleteObjectCommand({ Bucket: m?.[2], Key: `${m?.[3]}${key}` }));
    } else if (name === 'database stand-in') {
      // The restored copy's user and its fresh password, as the result names them, on a local MariaDB.
      const report = await new S3RestoreStore(clients, policy.vault.bucket).get<RestoreReport>(
        'inc-4711',
        'report.json',
      );
      const arn = report?.items[0]?.access?.secret?.arn;
      const isolated = await clients.assumeRole(policy.isolatedAccount?.roleArn ?? '', {
        externalId: policy.isolatedAccount?.externalId,
      });
      const secret = await isolated
        .get(SecretsManagerClient)
        .send(new GetSecretValueCommand({ SecretId: arn }));
      const { username, password } = JSON.parse(secret.SecretString ?? '{}') as {
        username: string;
        password: string;
      };
      maria = await startMariaDb();
      await addReader(maria, username, password, [
        'CREATE DATABASE shop',
        'CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40), created_at DATETIME)',
        "INSERT INTO shop.orders VALUES (1, 'green tea', '2026-11-21 18:00:00'), (2, 'rice', '2026-11-22 03:01:00'), (3, 'miso', '2026-11-22 03:05:00')",
      ]);
      overrides.VIA = `127.0.0.1:${maria.port}`;
    } else throw new Error(`unknown runbook-test hook "${name}"`);
  }

  async function runBlock(block: Block, where: string): Promise<void> {
    for (const h of block.hooks) await hook(h);
    let last: { line: string; r: Ran } | undefined;
    for (const line of block.lines.filter((l) => l && !l.startsWith('#'))) {
      if (line.startsWith('export ')) {
        for (const [, k, v] of line
          .slice(7)
          .split('#')[0]
          ?.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g) ?? [])
          if (k) vars[k] = overrides[k] ?? (v ?? '').replace(/^["']|["']$/g, '');
        continue;
      }
      if (HUMAN_ONLY.test(line)) {
        skipped.push(line.split(' ')[0] ?? '');
        continue;
      }
      const { args, comment } = words(line, vars);
      expect(args.slice(0, 2), `${where}: a runbook command must start with "npx kura": ${line}`).toEqual([
        'npx',
        'kura',
      ]);
      const kura = args.slice(2);
      // No state machine is deployed on the emulator: the same one runs in-process.
      if (kura[0] === 'restore' && kura[1] === 'start') kura.push('--local');
      const env = {
        AWS_ENDPOINT_URL: vars.AWS_ENDPOINT_URL ?? emulator.endpoint,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: policy.region,
        KURA_POLICY: vars.KURA_POLICY ? join(ROOT, vars.KURA_POLICY) : '',
        KURA_ISOLATED_PROFILE: vars.KURA_ISOLATED_PROFILE ?? '',
        // This emulator has no IAM front layer: the suite's control endpoint (the shared emulator's) must not leak in.
        KURA_IAM_CONTROL: '',
        AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
        AWS_CONFIG_FILE: `${credentialsFile}.config`,
      };
      const r = await runKura(kura, env);
      ran.push(kura.slice(0, 2).join(' '));
      const code = Number(/exits (\d+)/.exec(comment)?.[1] ?? 0);
      expect(r.code, `${where}: ${line}\n${r.stdout}\n${r.stderr}`).toBe(code);
      last = { line, r };
    }
    // The plan and progress go to stderr before the result on stdout.
    if (block.expected && last)
      expectShown(`${last.r.stderr}\n${last.r.stdout}`, block.expected, vars, `${where}: ${last.line}`);
  }

  const sectionsRun: Section[] = [];
  async function runSection(title: string, prepare?: () => Promise<void>): Promise<void> {
    const section = sections.find((s) => s.title.startsWith(title));
    expect(section, `docs/runbook.md has no section "${title}"`).toBeDefined();
    if (section) sectionsRun.push(section);
    // Each incident happens now: the emulator's point-in-time window ends 5 minutes before the
    // file's clock (RDS's LatestRestorableTime); the file's clock never goes back.
    clock.advanceTo(new Date());
    await prepare?.();
    for (const [n, b] of (section?.blocks ?? []).entries()) await runBlock(b, `${title}, block ${n + 1}`);
  }

  /** A time written with the policy zone's offset, as a person would. */
  function localTime(at: Date): string {
    const t = new Date(Math.ceil(at.getTime() / 1000) * 1000);
    const off = zoneOffset(t, policy.timezone);
    const sign = off.startsWith('-') ? -1 : 1;
    const [h, m] = off.slice(1).split(':').map(Number) as [number, number];
    const local = new Date(t.getTime() + sign * (h * 60 + m) * 60_000);
    return `${local.toISOString().slice(0, 19)}${off}`;
  }

  it('sets up: the restores already made, and an estate made by the demo', async () => {
    // The emulator first: on it, the vault exists once the demo made it.
    await runSection('Try it first, on the emulator');
    await runSection('Before you start');
    // The demo's servers have random ids: the runbook's example id stands for the first of them.
    const images = (await inventory({ policy, clients }, estatePorts({ policy, clients }))).filter(
      (p) => p.class === 'image' && p.region === policy.region,
    );
    overrides.INSTANCE = images[0]?.source ?? '';
    expect(overrides.INSTANCE).toMatch(/^i-/);
  });

  it('scenario 1: rows deleted: a point in time, reached, exported and cleaned up', async (ctx: TestContext) => {
    // A local MariaDB stands in for the Session Manager port forward.
    toolOrSkip(ctx, 'mariadb');
    // The demo made the database a moment ago: its point-in-time window starts then, so the
    // incident is a little before now but never before the window opened.
    const opened = ((await pitrWindow(clients, 'shop-db'))?.earliest?.getTime() ?? 0) + 2_000;
    overrides.INCIDENT = localTime(new Date(Math.max(Date.now() - 15_000, opened)));
    const started = clock.now().getTime();
    // The operator restores it six minutes later: RDS's newest restorable point trails the
    // present by its 5-minute transaction log uploads (the emulator's LatestRestorableTime too).
    await runSection('Scenario 1: a database', async () => {
      clock.advanceTo(new Date(Date.now() + 6 * 60_000));
    });
    // On AWS's timing: the temporary instance, its snapshot, the copy and the restore each
    // took their minutes of the command's clock, which the next commands continued from.
    const report = await new S3RestoreStore(clients, policy.vault.bucket).get<RestoreReport>(
      'inc-4711',
      'report.json',
    );
    expect(report?.items[0]?.durationSeconds).toBeGreaterThan(30 * 60);
    expect(clock.now().getTime() - started).toBeGreaterThan(30 * 60_000);
  });

  it('scenario 1b: the database deleted: its newest snapshot', async () => {
    await runSection('Scenario 1b: the database itself deleted');
  });

  it('scenario 2: images deleted: restored, and only the missing ones put back', async () => {
    await runSection('Scenario 2: uploaded images deleted');
  });

  it('scenario 3: a server lost: restored from its image, reachable by Session Manager', async () => {
    await runSection('Scenario 3: a server lost');
  });

  it('scenario 4: the whole site at one point in time', async () => {
    overrides.AT = localTime(new Date(Date.now() - 60_000));
    await runSection('Scenario 4: the whole site');
  });

  it('when something goes wrong: a typo names the databases that have backups', async () => {
    await runSection('When something goes wrong');
    // Every command shown is either run or one a person runs by hand (Session Manager, mysql, moto).
    const shown = sectionsRun.flatMap((s) => s.blocks.flatMap((b) => b.lines));
    expect([...new Set(skipped)].sort()).toEqual(
      [...new Set(shown.filter((l) => HUMAN_ONLY.test(l)).map((l) => l.split(' ')[0]))].sort(),
    );
    expect(ran.filter((r) => r === 'restore start').length).toBe(
      shown.filter((l) => l.startsWith('npx kura restore start')).length,
    );
    // Without MariaDB (outside CI) scenario 1 is skipped; with it, every scenario ran.
    expect(sectionsRun.length).toBe(tool('mariadb').path ? 8 : 7);
  });
});
