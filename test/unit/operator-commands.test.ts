// The on-call commands kura prints live in shared/domain/operator-commands.ts
// (their text, as an engineer pastes it, is pinned in access-route.test.ts):
// the address of the operator's machine stays out of the production code's
// flow, where a loopback literal reads like an emulator branch.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Files of shared/ and functions/ that hold a loopback address outside a comment. */
function loopbackLiterals(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(`${dir}/${e.name}`) : /\.ts$/.test(e.name) ? [`${dir}/${e.name}`] : [],
    );
  return ['shared', 'functions'].flatMap(walk).filter((f) =>
    readFileSync(join(ROOT, f), 'utf8')
      .split('\n')
      .some((l) => !/^\s*(\/\/|\*|\/\*)/.test(l) && /\b(127\.0\.0\.1|localhost)\b|\[::1\]/.test(l)),
  );
}

describe('printed commands live in the domain, not in the flow', () => {
  it('no loopback address in shared/ or functions/ but the port forward’s local end, in operator-commands.ts', () => {
    expect(loopbackLiterals()).toEqual(['shared/domain/operator-commands.ts']);
  });
});
