// The restore request's source account: database.account is validated
// against the policy's sources, and an ambiguous name is refused.
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../shared/policy/load.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { parseRestoreRequest } from '../../shared/restore/request.ts';
import { sourceAccountOf } from '../../shared/restore/source-account.ts';
import { InputError } from '../../shared/runtime/errors.ts';

const NOW = new Date('2026-11-21T00:00:00Z');
const A = '333333333333';
const B = '444444444444';
const base = loadPolicy();
const withSources = {
  ...base,
  isolatedAccount: { accountId: '210987654321', roleArn: 'arn:aws:iam::210987654321:role/kura-restore' },
  sources: [A, B].map((id) => ({
    accountId: id,
    roleArn: `arn:aws:iam::${id}:role/kura-source`,
    externalId: `x-${id}`,
  })),
};
const single = { ...withSources, sources: undefined };

function problems(raw: unknown, policy: Policy = withSources): string[] {
  try {
    parseRestoreRequest(raw, policy, NOW);
    return [];
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
}

describe('database.account in a restore request', () => {
  it('carries the named source account to the database item', () => {
    const r = parseRestoreRequest(
      { reason: 'ticket 42 shop', database: { instance: 'shop-db', snapshot: 'latest', account: A } },
      withSources,
      NOW,
    );
    expect(r.items[0]?.options).toEqual({ account: A });
  });

  it('refuses an account that is not one of the sources, and any account in single-account mode', () => {
    const req = { reason: 'ticket 42 shop', database: { instance: 'shop-db', snapshot: 'latest', account: '555555555555' } };
    expect(problems(req)).toEqual([
      `request: database.account: found "555555555555"; expected one of the policy's source accounts ${A}, ${B}`,
    ]);
    expect(problems(req, single)).toEqual([
      'request: database.account: found "555555555555"; expected no account (the policy has no sources: single-account mode)',
    ]);
    expect(problems({ reason: 'ticket 42 shop', database: { instance: 'shop-db', snapshot: 'latest', account: 333 } })).toEqual([
      'request: database.account: found number 333; expected string',
    ]);
  });
});

describe('a database name held by more than one source account', () => {
  it('is refused without database.account, naming the accounts', () => {
    expect(() => sourceAccountOf('database.account', 'shop-db', undefined, [B, A, B])).toThrow(
      `request: database.account: shop-db is the name of a database in more than one source account (${A}, ${B}); expected database.account naming one of them`,
    );
  });

  it('resolves to the named account, or to the only one that holds it', () => {
    expect(sourceAccountOf('database.account', 'shop-db', A, [A, B])).toBe(A);
    expect(sourceAccountOf('database.account', 'shop-db', undefined, [B])).toBe(B);
    expect(sourceAccountOf('database.account', 'shop-db', undefined, [])).toBeUndefined();
  });

  it('refuses an account that holds no recovery point of that name', () => {
    expect(() => sourceAccountOf('database.account', 'shop-db', B, [A])).toThrow(
      `request: database.account: no recovery point of shop-db comes from account ${B}; expected one of ${A}`,
    );
  });
});
