import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadPolicy, readPolicyDocument, DEFAULT_POLICY_PATH } from '../../shared/policy/load.ts';
import { parsePolicy } from '../../shared/policy/parse.ts';
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
