// The layering of docs/architecture.md, enforced: every import of every
// TypeScript file, read with TypeScript's own preprocessor (so `import type`,
// re-exports and dynamic imports count too), grouped by directory: shared/*
// by its own directory, everything else by its top-level directory.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SCANNED = ['shared', 'functions', 'cli', 'local', 'test', 'bench', 'deploy', 'bin'];

interface Import {
  from: string;
  /** Repository-relative path for a relative import, the package name otherwise. */
  to: string;
  local: boolean;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|mts|mjs)$/.test(e.name)) out.push(rel);
  }
  return out;
}

function importsOf(file: string): Import[] {
  const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
  return info.importedFiles.map(({ fileName }) =>
    fileName.startsWith('.')
      ? { from: file, to: relative(ROOT, resolve(ROOT, dirname(file), fileName)), local: true }
      : { from: file, to: fileName, local: false },
  );
}

/** shared/<dir> for shared code, the top-level directory for the rest. */
function groupOf(path: string): string {
  const [top, sub] = path.split('/');
  return top === 'shared' && sub && !sub.includes('.') ? `shared/${sub}` : (top ?? path);
}

const IMPORTS = SCANNED.flatMap((d) => sources(d)).flatMap(importsOf);
const inGroup = (g: string) => IMPORTS.filter((i) => groupOf(i.from) === g || i.from.startsWith(`${g}/`));
const show = (list: Import[]) => list.map((i) => `${i.from} -> ${i.to}`);

/** Directory-level cycles: the strongly connected components with more than one directory. */
function cycles(): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const i of IMPORTS.filter((x) => x.local)) {
    const a = groupOf(i.from);
    const b = groupOf(i.to);
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a)?.add(b);
  }
  // Tarjan's algorithm.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      for (;;) {
        const w = stack.pop() as string;
        onStack.delete(w);
        scc.push(w);
        if (w === v) break;
      }
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The imports that join the directories of one cycle, per pair of directories, to say where to cut. */
function cycleEdges(scc: string[]): string[] {
  const pairs = new Map<string, string[]>();
  for (const i of IMPORTS) {
    const [a, b] = [groupOf(i.from), groupOf(i.to)];
    if (!i.local || a === b || !scc.includes(a) || !scc.includes(b)) continue;
    pairs.set(`${a} -> ${b}`, [...(pairs.get(`${a} -> ${b}`) ?? []), i.from]);
  }
  return [...pairs].map(([pair, files]) => {
    const unique = [...new Set(files)];
    return `${pair}: ${unique.slice(0, 3).join(', ')}${unique.length > 3 ? ` and ${unique.length - 3} more` : ''}`;
  });
}

describe('import rules (docs/architecture.md)', () => {
  it('reads the imports of every layer (the rules below are not vacuous)', () => {
    for (const g of ['shared/domain', 'shared/aws', 'shared/usecases', 'functions', 'cli', 'local'])
      expect(inGroup(g).length, g).toBeGreaterThan(10);
    expect(IMPORTS.some((i) => i.from.startsWith('shared/aws/') && i.to.startsWith('@aws-sdk/'))).toBe(true);
  });

  it('domain imports no AWS SDK and no AWS adapter', () => {
    const bad = inGroup('shared/domain').filter(
      (i) => i.to.startsWith('@aws-sdk/') || i.to.startsWith('shared/aws/'),
    );
    expect(show(bad)).toEqual([]);
  });

  it('only shared/aws talks to AWS: use cases, restore steps, validation checks, policy, runtime and the edge import no SDK client', () => {
    const layers = [
      'shared/usecases',
      'shared/restore',
      'shared/validation',
      'shared/policy',
      'shared/runtime',
      'shared/edge',
    ];
    // Any SDK package: clients, and lib-storage, paginators and waiters that drive one.
    const calls = layers.flatMap(inGroup).filter((i) => i.to.startsWith('@aws-sdk/'));
    expect(show(calls)).toEqual([]);
  });

  it('functions import nothing from cli/ or local/', () => {
    const bad = inGroup('functions').filter((i) => i.local && /^(cli|local)\//.test(i.to));
    expect(show(bad)).toEqual([]);
  });

  it('Lambda code validates with zod/mini, never full zod (~440 KB per bundle, and its messages replace ours)', () => {
    const bad = [...inGroup('shared'), ...inGroup('functions')].filter((i) => !i.local && i.to === 'zod');
    expect(show(bad)).toEqual([]);
    expect(IMPORTS.some((i) => i.to === 'zod/mini')).toBe(true);
    // `import { z }` takes zod's namespace object whole (its locales and JSON Schema code, ~400
    // KB): esbuild shakes only a namespace import, `import * as z`.
    const named = [...inGroup('shared'), ...inGroup('functions')]
      .filter((i) => i.to === 'zod/mini')
      .filter(
        (i) => !/import (type )?\* as z from 'zod\/mini'/.test(readFileSync(join(ROOT, i.from), 'utf8')),
      )
      .map((i) => i.from);
    expect(named).toEqual([]);
  });

  it('shared imports nothing from cli/, local/ or test/', () => {
    const bad = inGroup('shared').filter((i) => i.local && /^(cli|local|test)\//.test(i.to));
    expect(show(bad)).toEqual([]);
  });

  it('no directory-level import cycles among shared/* and the top-level directories', () => {
    const found = cycles().map((scc) => ({ cycle: scc.join(' <-> '), imports: cycleEdges(scc) }));
    expect(found).toEqual([]);
  });
});

/** `new X(…)` in a file where X is imported (as a value) from shared/aws/: an adapter the file builds itself. */
function adaptersBuilt(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const fromAws = new Set<string>();
  for (const st of src.statements) {
    if (!ts.isImportDeclaration(st) || st.importClause?.isTypeOnly) continue;
    const to = relative(ROOT, resolve(ROOT, dirname(file), (st.moduleSpecifier as ts.StringLiteral).text));
    const named = st.importClause?.namedBindings;
    if (!to.startsWith('shared/aws/') || !named || !ts.isNamedImports(named)) continue;
    for (const e of named.elements) if (!e.isTypeOnly) fromAws.add(e.name.text);
  }
  const built: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && fromAws.has(n.expression.text))
      built.push(`${file}: new ${n.expression.text}`);
    ts.forEachChild(n, visit);
  };
  visit(src);
  return built;
}

/**
 * The names a file imports (or re-exports) as values from shared/aws/: `import type` and
 * `{ type X }` are left out, a default, namespace or bare import counts as a value.
 */
function awsValueImports(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  for (const st of src.statements) {
    const spec =
      (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier
        ? (st.moduleSpecifier as ts.StringLiteral).text
        : undefined;
    if (!spec?.startsWith('.')) continue;
    const to = relative(ROOT, resolve(ROOT, dirname(file), spec));
    if (!to.startsWith('shared/aws/')) continue;
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      if (clause?.isTypeOnly) continue;
      const named = clause?.namedBindings;
      const names =
        !clause || clause.name || (named && !ts.isNamedImports(named))
          ? ['(module)']
          : (named as ts.NamedImports).elements.filter((e) => !e.isTypeOnly).map((e) => e.name.text);
      out.push(...names.map((n) => `${file}: ${n} from ${to}`));
    } else if (ts.isExportDeclaration(st) && !st.isTypeOnly) {
      const clause = st.exportClause;
      const names =
        clause && ts.isNamedExports(clause)
          ? clause.elements.filter((e) => !e.isTypeOnly).map((e) => e.name.text)
          : ['*'];
      out.push(...names.map((n) => `${file}: ${n} from ${to}`));
    }
  }
  return out;
}

/**
 * SDK calls written in a file: `x.send(new YCommand(…))`, `clients.get(XClient…)`,
 * `new XClient(…)`, and the SDK's paginators and waiters (`paginateX(…)`, `waitUntilX(…)`).
 */
function sdkCalls(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const named = (e: ts.Node, re: RegExp) => ts.isIdentifier(e) && re.test(e.text);
  const visit = (n: ts.Node): void => {
    if (ts.isNewExpression(n) && named(n.expression, /^[A-Z]\w*(Command|Client)$/))
      found.push(`${file}: new ${(n.expression as ts.Identifier).text}`);
    if (ts.isCallExpression(n)) {
      const callee = n.expression;
      if (named(callee, /^(paginate|waitUntil)[A-Z]/))
        found.push(`${file}: ${(callee as ts.Identifier).text}`);
      if (
        ts.isPropertyAccessExpression(callee) &&
        callee.name.text === 'get' &&
        n.arguments[0] &&
        named(n.arguments[0], /Client$/)
      )
        found.push(`${file}: .get(${(n.arguments[0] as ts.Identifier).text})`);
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return found;
}

describe('use cases and restore steps receive their adapters (docs/architecture.md)', () => {
  it('reads value imports apart from type imports (the rule below is not vacuous)', () => {
    // An adapter module that imports an AWS adapter as a value, and a use case that imports only types.
    const values = awsValueImports('shared/edge/report-ports.ts');
    expect(values).toContain('shared/edge/report-ports.ts: RdsAdapter from shared/aws/rds.ts');
    expect(values.filter((v) => v.includes('EstatePorts'))).toEqual([]);
    expect(
      sources('shared/usecases').some((f) =>
        IMPORTS.some((i) => i.from === f && i.to.startsWith('shared/aws/')),
      ),
    ).toBe(true);
  });

  it('no use case imports a value from shared/aws: it receives its ports, built by a composition root', () => {
    expect(sources('shared/usecases').flatMap(awsValueImports)).toEqual([]);
  });

  it('no use case, restore step or validation check calls an SDK client: every call is in shared/aws', () => {
    // The rule reads call shapes, so it holds whichever module a client or command came from.
    expect(
      sources('shared/aws').flatMap(sdkCalls).length,
      "the scan finds the adapters' calls",
    ).toBeGreaterThan(20);
    const layers = ['shared/usecases', 'shared/restore', 'shared/validation'];
    expect(layers.flatMap((d) => sources(d)).flatMap(sdkCalls)).toEqual([]);
  });

  it('restore steps and validation checks import no value from shared/aws: each receives its ports from the edge', () => {
    // Not vacuous: they do import from shared/aws (the ports' types), and the scan reads a value
    // import where there is one (the edge, which binds the steps to their adapters).
    const files = [...sources('shared/restore'), ...sources('shared/validation')];
    expect(files.some((f) => IMPORTS.some((i) => i.from === f && i.to.startsWith('shared/aws/')))).toBe(true);
    expect(awsValueImports('shared/edge/restore-steps.ts')).toContain(
      'shared/edge/restore-steps.ts: awsDatabaseRestorePorts from shared/aws/restore-ports.ts',
    );
    expect(files.flatMap(awsValueImports)).toEqual([]);
  });

  it('no restore step builds an adapter of shared/aws itself: each takes its ports (shared/aws/restore-ports.ts)', () => {
    expect(sources('shared/restore').flatMap(adaptersBuilt)).toEqual([]);
  });
});
