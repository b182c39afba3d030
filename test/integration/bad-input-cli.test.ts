// The `kura` command given a broken policy file or a broken restore request:
// it exits non-zero with the message (no stack trace) and makes no AWS call.
// AWS_ENDPOINT_URL points at a loopback server that counts every request.
//
// Spawning `kura` (tsx) costs ~2 s of CPU per run, so a few variants go
// through the real process (bin/kura.mjs, test/support/kura-cli.ts) and the bulk
// runs in this process: cli/main.ts parses process.argv at import, so each run
// imports it afresh (a query string makes a new module instance; the
// commands it registers stay loaded) with argv, env and output captured.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { applyMutations, badFileArb, dotted, type Mutation, mutationsArb } from '../support/bad-policy.ts';
import {
  badRequestTextArb,
  mutateRequest,
  type RequestMutation,
  requestMutationArb,
} from '../support/bad-restore-request.ts';
import { type CountingServer, startCountingServer } from '../support/counting-server.ts';
import { type Ran, runKura } from '../support/kura-cli.ts';

const STACK = /\n\s+at .+[.:]\d+/;
let aws: CountingServer;
let dir: string;
const tally = { inProcess: 0, spawned: 0 };

function awsEnv(): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'ap-northeast-1',
  };
}

/** The real command, as a person runs it. */
async function spawned(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  tally.spawned++;
  return runKura(args, { KURA_POLICY: undefined, ...awsEnv(), ...env });
}

let runs = 0;
/** cli/main.ts in this process, with its argv, env and output captured. */
async function inProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  tally.inProcess++;
  const out: string[] = [];
  const err: string[] = [];
  const saved = { argv: process.argv, env: { ...process.env } };
  Object.assign(process.env, awsEnv());
  delete process.env.KURA_POLICY;
  Object.assign(process.env, env);
  process.argv = [process.execPath, 'kura', ...args];
  const spies = [
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(`${a.join(' ')}\n`)),
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(`${a.join(' ')}\n`)),
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => out.push(String(s)) > 0),
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => err.push(String(s)) > 0),
  ];
  try {
    const spec = `../../cli/main.ts?run=${runs++}`;
    await import(/* @vite-ignore */ spec);
    return { code: Number(process.exitCode ?? 0), stdout: out.join(''), stderr: err.join('') };
  } finally {
    for (const s of spies) s.mockRestore();
    process.exitCode = 0;
    process.argv = saved.argv;
    for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
    Object.assign(process.env, saved.env);
  }
}

function writeVariant(name: string, content: string | Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** Exit 2, the message on stderr without a stack trace, nothing on stdout. */
function expectRefused(r: Ran, what: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(what);
  expect(r.stderr).not.toMatch(STACK);
  expect(r.stderr).not.toContain('use --debug');
  expect(r.stdout).toBe('');
}

const namesAMutation = (stderr: string, applied: Mutation[]) =>
  applied.some((m) =>
    stderr.split('\n').some((line) => line.includes(`: ${dotted(m.path)}: `) && m.says.test(line)),
  );

beforeAll(async () => {
  aws = await startCountingServer();
  dir = mkdtempSync(join(tmpdir(), 'kura-bad-input-'));
});

afterAll(async () => {
  await aws.close();
});

// Fixed seeds: the same variants on every run, so a failure reproduces.
const policyVariants = fc.sample(mutationsArb, { numRuns: 30, seed: 20261121 }).map((ms, i) => {
  const { doc, applied } = applyMutations(ms);
  return { i, applied, content: stringify(doc) };
});
const fileVariants = fc.sample(badFileArb, { numRuns: 10, seed: 20261122 });
// Kinds whose refusal depends on "now" are left to the unit property (the CLI uses the wall clock).
const CLOCK_DEPENDENT = new Set([
  'future-at',
  'future-point-in-time',
  'future-date',
  'point-in-time-too-old',
]);
const requestVariants = fc
  .sample(requestMutationArb, { numRuns: 40, seed: 20261123 })
  .filter((m) => !CLOCK_DEPENDENT.has(m.kind))
  .slice(0, 24);
const requestTexts = fc.sample(badRequestTextArb, { numRuns: 8, seed: 20261124 });

describe('kura with a malformed policy file', () => {
  it('refuses 30 generated policy variants with the key path, for `policy check` and `invoke`, with no AWS call', async () => {
    for (const v of policyVariants) {
      const file = writeVariant(`policy-${v.i}.yml`, v.content);

      const check = await inProcess(['--policy', file, 'policy', 'check']);
      const invoke = await inProcess(
        ['invoke', 'rds-snapshot', '--time', '2026-11-21T04:00:00+09:00', '--yes'],
        {
          KURA_POLICY: file,
        },
      );

      for (const r of [check, invoke]) {
        expectRefused(r, /^kura: invalid policy:\n {2}- /);
        expect(namesAMutation(r.stderr, v.applied), r.stderr).toBe(true);
      }
    }
    expect(aws.requests).toEqual([]);
  });

  it('refuses files that are not a policy at all (YAML errors, binary, lists, cycles)', async () => {
    for (const [i, v] of fileVariants.entries()) {
      const file = writeVariant(`file-${i}.yml`, v.content);
      const r = await inProcess([
        '--policy',
        file,
        'invoke',
        'rds-snapshot',
        '--time',
        '2026-11-21T04:00:00Z',
        '--yes',
      ]);
      expectRefused(r, /^kura: invalid policy:\n {2}- .*(not valid YAML|expected)/);
    }
    expect(aws.requests).toEqual([]);
  });

  it('does the same through the real process, by --policy and by KURA_POLICY', async () => {
    const [a, b] = policyVariants;
    const files = [a, b].map((v) => writeVariant(`spawned-${v?.i}.yml`, v?.content ?? ''));
    const ran = await Promise.all([
      spawned(['--policy', files[0] as string, 'policy', 'check']),
      spawned(['invoke', 'rds-snapshot', '--time', '2026-11-21T04:00:00Z', '--yes'], {
        KURA_POLICY: files[1],
      }),
    ]);
    for (const [i, r] of ran.entries()) {
      expectRefused(r, /^kura: invalid policy:\n {2}- /);
      expect(namesAMutation(r.stderr, [a, b][i]?.applied ?? [])).toBe(true);
    }
    expect(aws.requests).toEqual([]);
  });
});

describe('kura restore with a malformed request', () => {
  const refusedRequest = (r: Ran, m: RequestMutation) => {
    expectRefused(r, /^kura: invalid input:\n {2}- /);
    const named = r.stderr
      .split('\n')
      .some((line) => line.includes(`request: ${m.field}`) && m.says.test(line));
    expect(named, r.stderr).toBe(true);
  };

  it('refuses generated request variants for `restore --request` and `restore start --local`, with no AWS call', async () => {
    for (const [i, m] of requestVariants.entries()) {
      const file = writeVariant(`request-${i}.json`, JSON.stringify(mutateRequest(m)));

      const alias = await inProcess(['restore', '--request', file, '--yes']);
      const local = await inProcess(['restore', 'start', '--request', file, '--local', '--yes']);

      refusedRequest(alias, m);
      refusedRequest(local, m);
    }
    expect(requestVariants.length).toBeGreaterThanOrEqual(20);
    expect(aws.requests).toEqual([]);
  });

  it('refuses request files that are not a JSON object, also when flags are added', async () => {
    for (const [i, v] of requestTexts.entries()) {
      const file = writeVariant(`request-text-${i}.json`, v.text);
      const r = await inProcess(['restore', 'start', '--request', file, '--reason', 'INC-1 check', '--yes']);
      expectRefused(r, /^kura: invalid input:\n {2}- .*expected/);
    }
    const future = writeVariant(
      'request-future.json',
      JSON.stringify({
        reason: 'INC-2 wrong clock',
        at: new Date(Date.now() + 86_400_000).toISOString(),
        logs: [{ class: 'access', host: 'web-1', from: '2026-11-01' }],
      }),
    );
    expectRefused(
      await inProcess(['restore', '--request', future, '--local', '--yes']),
      /request: at: .* is in the future/,
    );
    expect(aws.requests).toEqual([]);
  });

  it('does the same through the real process', async () => {
    const [m] = requestVariants;
    if (!m) throw new Error('no request variant');
    const file = writeVariant('request-spawned.json', JSON.stringify(mutateRequest(m)));
    refusedRequest(await spawned(['restore', '--request', file, '--local', '--yes']), m);
    const notJson = writeVariant('request-not-json.txt', 'reason: not json');
    expectRefused(
      await inProcess(['restore', 'start', '--request', notJson, '--yes']),
      /--request .*expected a JSON file/,
    );
    expect(aws.requests).toEqual([]);
  });
});

describe('kura with malformed flags and event files', () => {
  it('refuses a --time that is not on the calendar instead of moving it to another day', async () => {
    for (const t of ['2026-02-30T04:00:00Z', '2026-11-21T24:00:00Z', '2026-11-21T04:60:00Z']) {
      expectRefused(
        await inProcess(['invoke', 'rds-snapshot', '--time', t, '--yes']),
        new RegExp(`--time: found "${t}"; expected an ISO-8601 time`),
      );
      expectRefused(
        await inProcess(['run', 'validation', '--time', t, '--yes']),
        /--time: found .*expected an ISO-8601 time/,
      );
    }
    expect(aws.requests).toEqual([]);
  });

  it('refuses --event and --input files that are missing, not JSON or not an object', async () => {
    const files = {
      missing: join(dir, 'no-such-event.json'),
      'not JSON': writeVariant('event-not-json.json', '{"detail": '),
      null: writeVariant('event-null.json', 'null'),
      'a list': writeVariant('event-list.json', '[1, 2]'),
    };
    for (const [what, file] of Object.entries(files)) {
      const expected =
        what === 'null' || what === 'a list'
          ? `found ${what}; expected a JSON object`
          : 'expected a JSON file';
      expectRefused(
        await inProcess([
          'invoke',
          'rds-snapshot',
          '--time',
          '2026-11-21T04:00:00Z',
          '--event',
          file,
          '--yes',
        ]),
        new RegExp(`--event ${file}: .*${expected}`),
      );
      expectRefused(
        await inProcess(['run', 'validation', '--input', file, '--yes']),
        new RegExp(`--input ${file}: .*${expected}`),
      );
    }
    expect(aws.requests).toEqual([]);
  });
});

describe('kura restore export, restore cleanup and report compliance with bad input', () => {
  it('refuses each before any AWS call, naming what is wrong and what was expected', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['restore', 'export', 'RQ_1', '--database', 'shop-db', '--yes'],
        /export: restore: found string "RQ_1"; expected a restore id/,
      ],
      [
        ['restore', 'export', 'rq-1', '--yes'],
        /export: nothing to export; expected --database .* or --content with --to/,
      ],
      [
        [
          'restore',
          'export',
          'rq-1',
          '--content',
          'app1-images',
          '--to',
          's3://kura-vault-123456789012-apne1/x/',
          '--yes',
        ],
        /export: content\.0\.to: s3:\/\/kura-vault-123456789012-apne1\/x\/ is the vault; expected the bucket the images go back to/,
      ],
      [
        [
          'restore',
          'export',
          'rq-1',
          '--content',
          'app1-images',
          '--to',
          's3://app1-uploads/images',
          '--yes',
        ],
        /export: content\.0\.to: found string "s3:\/\/app1-uploads\/images"; expected s3:\/\/bucket\/prefix\/ \(ending in "\/"\)/,
      ],
      [
        ['restore', 'export', 'rq-1', '--content', 'app9-images', '--to', 's3://a-b/c/', '--yes'],
        /content\.0\.source: found "app9-images"; expected one of app1-images, app2-images/,
      ],
      [
        ['restore', 'export', 'rq-1', '--database', 'shop-db', '--where', 'x=1; DROP TABLE orders', '--yes'],
        /export: database\.where: .*expected one condition, without ";"/,
      ],
      [
        ['restore', 'export', 'rq-1', '--database', 'shop-db', '--via', 'localhost', '--yes'],
        /database\.via: .*expected host:port/,
      ],
      [['restore', 'cleanup', 'Rq_1', '--yes'], /<id>: found "Rq_1"; expected a restore id/],
      [['restore', 'cleanup', 'rq-1', '--wait', 'soon', '--yes'], /--wait: found "soon"; expected minutes/],
      [
        ['report', 'compliance', '--from', '2026-02-30'],
        /--from: found "2026-02-30"; expected a date yyyy-mm-dd/,
      ],
      [
        ['report', 'compliance', '--from', '2026-11-02', '--to', '2026-11-01'],
        /--from: .* is not before --to/,
      ],
      [
        ['report', 'compliance', '--format', 'pdf'],
        /--format: found "pdf"; expected one of table, json, md, html, csv/,
      ],
    ];
    for (const [args, what] of cases) expectRefused(await inProcess(args), what);
    expect(aws.requests).toEqual([]);
  });
});

describe('the counting endpoint (positive control)', () => {
  it('does see the AWS calls of a valid run, so zero above means zero', async () => {
    const badInputRequests = aws.requests.length;
    console.log(
      `bad input through the CLI: ${tally.inProcess} runs in-process, ${tally.spawned} spawned; AWS requests counted: ${badInputRequests}`,
    );

    const r = await inProcess(['invoke', 'rds-snapshot', '--time', '2026-11-21T04:00:00Z', '--yes']);

    expect(r.code).not.toBe(0); // the stand-in answers 400 to everything
    expect(aws.requests.length).toBeGreaterThan(badInputRequests);
    expect(aws.requests.join('\n')).toContain('DescribeDBInstances');
  });
});
