import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadPolicy, readPolicyDocument, DEFAULT_POLICY_PATH } from '../../shared/policy/load.ts';
import { parsePolicy } from '../../shared/policy/parse.ts';
import { owningAccount, sourceAccounts } from '../../shared/policy/sources.ts';
import { PolicyError } from '../../shared/runtime/errors.ts';

function reference(): Record<string, any> {
  return structuredClone(readPolicyDocument(DEFAULT_POLICY_PATH)) as Record<string, any>;
}

function problems(doc: unknown): string[] {
  try {
    parsePolicy(doc, 'test.yml');
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  return [];
}

describe('the reference policy', () => {
  it('mirrors the customer policy: Tokyo times, 7 days, 7 generations, 7y/1y/1y logs, monthly validation', () => {
    const p = loadPolicy();
    expect(p.timezone).toBe('Asia/Tokyo');
    expect(p.database?.retainDays).toBe(7);
    expect(p.database?.rpoMinutes).toBe(5);
    expect(p.content.map((c) => c.generations)).toEqual([7, 7]);
    expect(p.logs?.classes).toEqual({
      access: { retainDays: 2557 },
      application: { retainDays: 365 },
      system: { retainDays: 365 },
    });
    expect(p.schedules['content-backup']).toBe('cron(30 5 * * ? *)');
    expect(p.schedules['log-archive']).toBe('cron(0 2 * * ? *)');
    expect(p.schedules.validation).toMatch(/^cron\(\d+ \d+ 1 \* \? \*\)$/);
  });

  it('selects another file through KURA_POLICY', () => {
    const file = join(tmpdir(), `kura-policy-${process.pid}.yml`);
    const doc = reference();
    doc.timezone = 'Europe/Paris';
    writeFileSync(file, JSON.stringify(doc));
    process.env.KURA_POLICY = file;
    try {
      expect(loadPolicy().timezone).toBe('Europe/Paris');
    } finally {
      delete process.env.KURA_POLICY;
    }
  });
});

describe('policy errors name the key path, what was found and what was expected', () => {
  it('reports a missing key', () => {
    const doc = reference();
    delete doc.vault.bucket;
    expect(problems(doc)).toEqual([
      expect.stringMatching(/^test\.yml: vault\.bucket: missing; expected string$/),
    ]);
  });

  it('reports a vault administrator that is neither a role name nor a role or user ARN', () => {
    const doc = reference();
    doc.vault.administrators = ['kura-admin', 'arn:aws:s3:::not-a-principal'];
    expect(problems(doc)).toEqual([
      expect.stringMatching(
        /^test\.yml: vault\.administrators\.1: found string "arn:aws:s3:::not-a-principal"; expected an IAM role name .* or a role\/user ARN/,
      ),
    ]);
  });

  it('refuses an administrator wildcard that matches every principal or every account', () => {
    const doc = reference();
    doc.vault.administrators = ['*', 'arn:aws:iam::123456789012:role/*', 'arn:aws:iam::*:role/kura-admin'];
    expect(problems(doc)).toEqual([
      expect.stringMatching(
        /vault\.administrators\.0: found string "\*"; expected a role name or ARN that names someone/,
      ),
      expect.stringMatching(
        /vault\.administrators\.1: found string "arn:aws:iam::123456789012:role\/\*"; expected a role name or ARN that names someone/,
      ),
      expect.stringMatching(/vault\.administrators\.2: .*expected an administrator of one account/),
    ]);
    // A pattern that still names someone (an SSO permission set's roles) stays allowed.
    doc.vault.administrators = [
      'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_KuraAdmin_*',
    ];
    expect(problems(doc)).toEqual([]);
  });

  it('defaults the vault administrators to the role kura-admin, and refuses an empty list', () => {
    const doc = reference();
    delete doc.vault.administrators;
    expect(parsePolicy(doc, 'test.yml').vault.administrators).toEqual(['kura-admin']);
    doc.vault.administrators = [];
    expect(problems(doc)).toEqual([expect.stringContaining('vault.administrators: ')]);
    expect(problems(doc)[0]).toContain('expected at least one administrator');
  });

  it('reports a wrong type', () => {
    const doc = reference();
    doc.database.retainDays = 'seven';
    expect(problems(doc)).toEqual([
      expect.stringContaining('database.retainDays: found string "seven"; expected number'),
    ]);
  });

  it('reports a bad cron expression with the reason', () => {
    const doc = reference();
    doc.schedules['rds-snapshot'] = 'cron(0 25 * * ? *)';
    const [msg] = problems(doc);
    expect(msg).toContain('schedules.rds-snapshot: found string "cron(0 25 * * ? *)"');
    expect(msg).toContain('hours "25" is outside 0-23');
  });

  it('reports a cron expression with the wrong number of fields', () => {
    const doc = reference();
    doc.schedules['log-archive'] = 'cron(0 2 * * *)';
    expect(problems(doc)[0]).toContain('cron needs 6 fields');
  });

  it('reports an unknown time zone', () => {
    const doc = reference();
    doc.timezone = 'Asia/Tokio';
    expect(problems(doc)).toEqual([
      expect.stringContaining('timezone: found string "Asia/Tokio"; expected an IANA time zone'),
    ]);
  });

  it('accepts a canonical zone, UTC and the IANA aliases Intl knows (the aliases take the slower check)', () => {
    for (const tz of ['Europe/Paris', 'UTC', 'Etc/UTC', 'Asia/Calcutta', 'US/Eastern']) {
      const doc = reference();
      doc.timezone = tz;
      expect(problems(doc), tz).toEqual([]);
    }
  });

  it('reports a retention below the minimum generations', () => {
    const doc = reference();
    doc.database.retainDays = 2;
    doc.database.minGenerations = 3;
    expect(problems(doc)).toEqual([
      expect.stringContaining(
        'database.retainDays: found number 2; retention of 2 days is below the minimum generations (3)',
      ),
    ]);
  });

  it('reports too few content generations', () => {
    const doc = reference();
    doc.content[0].generations = 1;
    expect(problems(doc)[0]).toContain('content.0.generations: found number 1; expected at least 2');
  });

  it('reports a misspelt key instead of ignoring it', () => {
    const doc = reference();
    doc.database.retainDay = 7;
    expect(problems(doc)).toEqual([expect.stringContaining('database: unknown key(s) "retainDay"')]);
  });

  it('lists every problem at once', () => {
    const doc = reference();
    doc.timezone = 'Nowhere/City';
    doc.region = 'tokyo';
    doc.logs.landing = 'bucket/prefix';
    expect(problems(doc)).toHaveLength(3);
  });

  it('reports a file that is not YAML', () => {
    const file = join(tmpdir(), `kura-bad-${process.pid}.yml`);
    writeFileSync(file, 'version: 1\n  timezone: [unclosed\n');
    expect(() => loadPolicy(file)).toThrow(/not valid YAML/);
  });

  it('accepts the reference document unchanged', () => {
    expect(problems(parse(JSON.stringify(reference())))).toEqual([]);
  });
});

describe('source accounts (the backup-account topology)', () => {
  const A = '333333333333';
  const B = '444444444444';
  const src = (id: string, extra: Record<string, unknown> = {}) => ({
    accountId: id,
    roleArn: `arn:aws:iam::${id}:role/kura-source`,
    externalId: `kura-${id}`,
    ...extra,
  });

  it('accepts one source without content or logs accounts, and defaults its regions to the policy region', () => {
    const doc = reference();
    doc.sources = [src(A)];
    expect(problems(doc)).toEqual([]);
    const p = parsePolicy(doc, 'test.yml');
    expect(sourceAccounts(p)).toEqual([
      { accountId: A, roleArn: `arn:aws:iam::${A}:role/kura-source`, externalId: `kura-${A}`, regions: ['ap-northeast-1'] },
    ]);
    expect(owningAccount(p, p.content[0] ?? {})?.accountId).toBe(A);
  });

  it('keeps single-account mode when sources are absent: no owning account, no sources', () => {
    const p = loadPolicy();
    expect(p.sources).toBeUndefined();
    expect(sourceAccounts(p)).toEqual([]);
    expect(owningAccount(p, p.content[0] ?? {})).toBeUndefined();
  });

  it('requires content[].account and logs.account when there is more than one source, naming the choices', () => {
    const doc = reference();
    doc.sources = [src(A), src(B, { regions: ['ap-northeast-1', 'us-west-2'] })];
    expect(problems(doc)).toEqual([
      `test.yml: content.0.account: missing; expected the source account that owns s3://app1-uploads/images/ (one of ${A}, ${B}): required when there is more than one source`,
      `test.yml: content.1.account: missing; expected the source account that owns s3://app2-uploads/images/ (one of ${A}, ${B}): required when there is more than one source`,
      `test.yml: logs.account: missing; expected the source account that owns s3://kura-log-landing-123456789012/incoming/ (one of ${A}, ${B}): required when there is more than one source`,
    ]);
    doc.content[0].account = A;
    doc.content[1].account = B;
    doc.logs.account = B;
    expect(problems(doc)).toEqual([]);
    const p = parsePolicy(doc, 'test.yml');
    expect(owningAccount(p, p.logs ?? {})?.regions).toEqual(['ap-northeast-1', 'us-west-2']);
  });

  it('refuses an account that is not a source, and any account in single-account mode', () => {
    const doc = reference();
    doc.logs.account = '555555555555';
    expect(problems(doc)).toEqual([
      'test.yml: logs.account: found string "555555555555"; the policy has no sources (single-account mode: the log landing is in kura\'s own account); expected no account, or list 555555555555 under sources',
    ]);
    doc.sources = [src(A)];
    expect(problems(doc)).toEqual([
      `test.yml: logs.account: found string "555555555555"; expected one of the source accounts ${A}`,
    ]);
  });

  it('refuses a role of another account, a duplicate account, a repeated region, the isolated account as a source and a bad external id', () => {
    const doc = reference();
    doc.isolatedAccount = { accountId: '210987654321', roleArn: 'arn:aws:iam::210987654321:role/kura-restore' };
    doc.sources = [
      src(A, { roleArn: `arn:aws:iam::${B}:role/kura-source` }),
      src(A, { regions: ['ap-northeast-1', 'ap-northeast-1'] }),
      src('210987654321', { externalId: 'has space' }),
    ];
    for (const c of doc.content) c.account = A;
    doc.logs.account = A;
    expect(problems(doc)).toEqual([
      'test.yml: sources.2.externalId: found string "has space"; expected an external id of letters, digits and +=,.@:/-_ (an STS limit)',
      `test.yml: sources.0.roleArn: found string "arn:aws:iam::${B}:role/kura-source"; expected a role in the source account ${A} (its kura-source role, deploy/source-account.yml)`,
      `test.yml: sources.1.accountId: found string "${A}"; duplicate source account ${A}; expected each account once (list its regions under one entry)`,
      'test.yml: sources.1.regions: found a list ["ap-northeast-1","ap-northeast-1"]; region ap-northeast-1 listed twice; expected each region once',
      'test.yml: sources.2.accountId: found string "210987654321"; the isolated account 210987654321 cannot be a source; expected a production account (restores and rehearsals run in the isolated account)',
    ]);
  });

  it('refuses an empty list of sources or regions, and an unquoted (numeric) account id', () => {
    const doc = reference();
    doc.sources = [];
    expect(problems(doc)).toEqual([
      'test.yml: sources: found a list []; expected at least one source account (or no sources key at all)',
    ]);
    doc.sources = [{ ...src(A), accountId: 333333333333, regions: [] }];
    expect(problems(doc)).toEqual([
      'test.yml: sources.0.accountId: found number 333333333333; expected string',
      'test.yml: sources.0.regions: found a list []; expected at least one region (or no regions key)',
    ]);
  });

  it('refuses a selector tag key other than kura:backup and enforceBackupRetention with sources', () => {
    const doc = reference();
    doc.sources = [src(A)];
    doc.selector = { tagKey: 'backup', tagValue: 'yes' };
    doc.database.enforceBackupRetention = true;
    expect(problems(doc)).toEqual([
      'test.yml: selector.tagKey: found string "backup"; expected kura:backup with sources: the kura-source role may snapshot only resources with that tag (deploy/source-account.yml); selector.tagValue stays yours',
      'test.yml: database.enforceBackupRetention: found boolean true; expected false with sources: the kura-source role changes no setting of a production database; set the automated backup retention in the source account (kura reports a short one)',
    ]);
  });
});
