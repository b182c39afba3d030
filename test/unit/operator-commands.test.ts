// The on-call commands kura prints live in shared/domain/operator-commands.ts
// (their text, as an engineer pastes it, is pinned in access-route.test.ts).
// The port forward's local end is named by its port alone, so no loopback
// address appears anywhere in the production code, where one reads like an
// emulator branch.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseExportCommand } from '../../shared/domain/operator-commands.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { parseExportRequest } from '../../shared/restore/export-request.ts';

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
  it('no loopback address in shared/ or functions/, the port forward’s local end included', () => {
    expect(loopbackLiterals()).toEqual([]);
  });

  it('the printed --via (the port alone) is one `kura restore export` accepts, as is host:port; a host alone is not', () => {
    const via = databaseExportCommand('oncall-1', 'shop').match(/--via (\S+)/)?.[1];
    const parse = (v: string) =>
      parseExportRequest({ restore: 'oncall-1', database: { instance: 'shop', via: v } }, loadPolicy())
        .database?.via;
    expect(via).toBe('13306');
    expect(parse(via ?? '')).toBe('13306');
    expect(parse('jump.example.internal:13306')).toBe('jump.example.internal:13306');
    expect(() => parse('jump.example.internal')).toThrow(/expected host:port, or the port alone/);
  });
});
