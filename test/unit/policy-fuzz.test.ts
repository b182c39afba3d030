// Property: however the policy is broken, parsing and loading throw a
// PolicyError (never another exception) whose message names the key path of
// a mutation and says what was expected.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../shared/policy/load.ts';
import { parsePolicy } from '../../shared/policy/parse.ts';
import { PolicyError } from '../../shared/runtime/errors.ts';
import {
  applyMutations,
  badFileArb,
  dotted,
  type Mutation,
  mutationsArb,
  referenceDoc,
} from '../support/bad-policy.ts';

const FILE = 'fuzz.yml';
const seen = { runs: 0, variants: new Set<string>(), kinds: new Set<string>(), fileKinds: new Set<string>() };

function policyError(f: () => unknown): PolicyError {
  try {
    f();
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw new Error(`expected a PolicyError, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
  }
  throw new Error('expected a PolicyError, but the policy was accepted');
}

/** Every problem line: file, key path, what was found and what was expected; short; no bare "Invalid input". */
function expectReadable(problems: string[], file: string): void {
  expect(problems.length).toBeGreaterThan(0);
  for (const p of problems) {
    expect(p.startsWith(`${file}: `)).toBe(true);
    expect(p).toMatch(
      /: (found .+|missing); .*(expected|outside|must be|needs|is not a)|: unknown key\(s\) .+; check the spelling|not valid YAML|cannot read/,
    );
    expect(p).not.toContain('Invalid input');
    expect(p.length).toBeLessThan(1_000);
  }
}

function names(m: Mutation, line: string): boolean {
  return line.startsWith(`${FILE}: ${dotted(m.path)}: `) && m.says.test(line);
}

afterAll(() => {
  console.log(
    `policy fuzz: ${seen.runs} documents, ${seen.variants.size} distinct variants, ${seen.kinds.size} mutation kinds (${[...seen.kinds].sort().join(', ')}); ` +
      `load level: ${seen.fileKinds.size} kinds of bad file (${[...seen.fileKinds].sort().join(', ')})`,
  );
});

describe('a malformed policy document', () => {
  it('is refused with a PolicyError that names the key path of a mutation and what was expected', () => {
    fc.assert(
      fc.property(mutationsArb, (mutations) => {
        const { doc, applied } = applyMutations(mutations);
        seen.runs++;
        seen.variants.add(JSON.stringify(applied.map((a) => [a.kind, a.path, a.key, a.value])));
        for (const a of applied) seen.kinds.add(a.kind);

        const err = policyError(() => parsePolicy(doc, FILE));

        expectReadable(err.problems, FILE);
        const named = applied.some((a) => err.problems.some((line) => names(a, line)));
        if (!named)
          throw new Error(
            `no problem names a mutation:\n${err.problems.join('\n')}\nmutations: ${JSON.stringify(applied).slice(0, 500)}`,
          );
      }),
      { numRuns: 400 },
    );
    expect(seen.variants.size).toBeGreaterThanOrEqual(30);
    expect(seen.kinds.size).toBeGreaterThanOrEqual(10);
  });

  it('names every mutation when each sits in a different section', () => {
    // One mutation per top-level section: no refinement is masked by another
    // section's problem, so each must be reported.
    const { doc, applied } = applyMutations([
      { kind: 'bad-time-zone', path: ['timezone'], value: 'Asia/Tokio', says: /IANA/ },
      { kind: 'out-of-range', path: ['database', 'retainDays'], value: -1, says: /positive/ },
      { kind: 'bad-s3-url', path: ['logs', 'landing'], value: 'bucket/prefix', says: /S3 URL/ },
      { kind: 'unknown-key', path: ['images'], key: 'generation', value: 8, says: /unknown key/ },
    ]);
    const err = policyError(() => parsePolicy(doc, FILE));
    for (const a of applied) expect(err.problems.some((line) => names(a, line))).toBe(true);
  });

  it('accepts the reference document unchanged (the mutations, not the base, cause the errors)', () => {
    expect(() => parsePolicy(referenceDoc(), FILE)).not.toThrow();
  });
});

describe('a policy file that is not a policy at all', () => {
  const dir = tmpdir();
  let n = 0;

  it('is refused by loadPolicy with a PolicyError naming the file, never another exception', () => {
    fc.assert(
      fc.property(badFileArb, ({ kind, content }) => {
        seen.fileKinds.add(kind);
        const file = join(dir, `kura-fuzz-${process.pid}-${n++}.yml`);
        writeFileSync(file, content);

        const err = policyError(() => loadPolicy(file));

        expectReadable(err.problems, file);
      }),
      { numRuns: 150 },
    );
    expect(seen.fileKinds.size).toBeGreaterThanOrEqual(6);
  });

  it('shows a long value shortened, and a list that contains itself without crashing', () => {
    const file = join(dir, `kura-fuzz-cycle-${process.pid}.yml`);
    writeFileSync(file, `version: 1\ntimezone: ${'A'.repeat(50_000)}\ncontent: &a [*a]\n`);
    const err = policyError(() => loadPolicy(file));
    expect(err.message).toContain('(50000 characters)');
    expect(err.message).toContain('content.0: found a list');
    expect(err.message.length).toBeLessThan(2_000);
  });
});
