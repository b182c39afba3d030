// Property: a broken orchestrated restore request is refused with an
// InputError that names the field and says what was expected; never another
// exception. parseRestoreRequest is pure: no AWS call can happen here (the
// CLI-level check with a request-counting endpoint is in
// test/integration/bad-input-cli.test.ts).
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../shared/policy/load.ts';
import { parseRestoreRequest } from '../../shared/restore/request.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { mutateRequest, NOW, referenceRequest, requestMutationArb } from '../support/bad-restore-request.ts';

const policy = loadPolicy();
const seen = { runs: 0, variants: new Set<string>(), kinds: new Set<string>() };

function inputError(raw: unknown): InputError {
  try {
    parseRestoreRequest(raw, policy, NOW);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw new Error(`expected an InputError, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
  }
  throw new Error(
    `expected an InputError, but the request was accepted: ${JSON.stringify(raw).slice(0, 300)}`,
  );
}

function expectReadable(problems: string[]): void {
  expect(problems.length).toBeGreaterThan(0);
  for (const p of problems) {
    expect(p).toMatch(/^(request|policy): /);
    expect(p).toMatch(/expected|in the future|older than|listed more than once|after to|check the spelling/);
    expect(p).not.toContain('Invalid input');
    expect(p.length).toBeLessThan(1_000);
  }
}

afterAll(() => {
  console.log(
    `restore request fuzz: ${seen.runs} requests, ${seen.variants.size} distinct variants, ${seen.kinds.size} mutation kinds (${[...seen.kinds].sort().join(', ')})`,
  );
});

describe('a malformed restore request', () => {
  it('the reference request is valid (the mutations cause the refusals)', () => {
    expect(parseRestoreRequest(referenceRequest(), policy, NOW).items).toHaveLength(4);
  });

  it('is refused with an InputError naming the field and what was expected', () => {
    fc.assert(
      fc.property(requestMutationArb, (m) => {
        const raw = mutateRequest(m);
        seen.runs++;
        seen.kinds.add(m.kind);
        seen.variants.add(JSON.stringify([m.kind, m.path, m.value]).slice(0, 200));

        const err = inputError(raw);

        expectReadable(err.problems);
        const named = err.problems.some((p) => p.startsWith(`request: ${m.field}`) && m.says.test(p));
        if (!named)
          throw new Error(
            `no problem names ${m.field} (${m.says}):\n${err.problems.join('\n')}\n${JSON.stringify(m).slice(0, 300)}`,
          );
      }),
      { numRuns: 300 },
    );
    expect(seen.variants.size).toBeGreaterThanOrEqual(30);
  });

  it('is refused when it is not an object at all', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), fc.array(fc.anything(), { maxLength: 3 }), fc.string(), fc.constant(null)),
        (raw) => {
          seen.runs++;
          seen.kinds.add('not-a-request');
          expectReadable(inputError(raw).problems);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a day that is not on the calendar instead of rolling it over', () => {
    // Date.parse("2026-02-30T04:00:00Z") is March 2: a restore must not move it silently.
    const req: Record<string, unknown> = { ...referenceRequest(), at: '2026-02-30T04:00:00+09:00' };
    for (const k of ['database', 'instances', 'content'] as const) delete req[k];
    const err = inputError(req);
    expect(err.problems).toEqual([
      expect.stringContaining(
        'request: at: found string "2026-02-30T04:00:00+09:00"; expected an ISO-8601 time',
      ),
    ]);
  });
});
