// Test support: the programs some checks need beyond Node and moto (cfn-lint,
// headless Chromium, a MariaDB and a PostgreSQL server), found on PATH, with what installs each.
//
// - A required tool (cfn-lint) that is missing fails the check that needs it,
//   with the install command: `requireTool('cfn-lint')`.
// - An optional tool (chromium, mariadb) is not needed by the README's
//   `npm ci && npm test` on a fresh machine: a check that needs it calls
//   `toolOrSkip(ctx, name)`, which skips the check with the reason ("chromium
//   not installed — apt-get install chromium"); the run's summary counts those
//   (test/support/skipped-checks-reporter.ts). Under CI (CI=true) every tool
//   is required: the same call fails the check with the install command.
// - KURA_TEST_HIDE_TOOLS=chromium,mariadb makes tools count as not installed,
//   to prove the paths above on a machine that has them.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'vitest';

export type ToolName = 'cfn-lint' | 'chromium' | 'mariadb' | 'postgresql';

interface ToolSpec {
  /** Programs that must all be found; the first one is the tool's path. */
  programs: string[][];
  install: string;
  /** Optional: skipped with the reason when missing, outside CI. */
  optional: boolean;
}

const PG_VERSIONS = [18, 17, 16, 15, 14];

const TOOLS: Record<ToolName, ToolSpec> = {
  'cfn-lint': { programs: [['cfn-lint']], install: 'pip install cfn-lint', optional: false },
  chromium: { programs: [['chromium']], install: 'apt-get install chromium', optional: true },
  // mariadbd lives in /usr/sbin, which is not on every user's PATH.
  mariadb: {
    programs: [['mariadbd', '/usr/sbin/mariadbd'], ['mariadb-install-db']],
    install: 'apt-get install mariadb-server',
    optional: true,
  },
  // Debian keeps the server programs under /usr/lib/postgresql/<version>/bin, off PATH.
  postgresql: {
    programs: [
      ['initdb', ...PG_VERSIONS.map((v) => `/usr/lib/postgresql/${v}/bin/initdb`)],
      ['postgres', ...PG_VERSIONS.map((v) => `/usr/lib/postgresql/${v}/bin/postgres`)],
    ],
    install: 'apt-get install postgresql',
    optional: true,
  },
};

export class MissingToolError extends Error {
  override name = 'MissingToolError';
}

export interface Tool {
  name: ToolName;
  /** The tool's main program when installed. */
  path?: string;
  /** Every program the tool needs, found. */
  programs: string[];
  install: string;
  optional: boolean;
  /** Why it cannot be used, as the run's summary prints it: "chromium not installed — apt-get install chromium". */
  missing: string;
}

/** True under CI, where every tool is required (.ci/run installs them). */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first of the candidates found: a name is looked up on PATH, a path is taken as is. */
function findProgram(candidates: string[], env: NodeJS.ProcessEnv): string | undefined {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const c of candidates) {
    if (c.includes('/')) {
      if (executable(c)) return c;
      continue;
    }
    for (const d of dirs) if (executable(join(d, c))) return join(d, c);
  }
  return undefined;
}

/** A tool as this machine has it (PATH and KURA_TEST_HIDE_TOOLS of `env`). */
export function tool(name: ToolName, env: NodeJS.ProcessEnv = process.env): Tool {
  const spec = TOOLS[name];
  const hidden = (env.KURA_TEST_HIDE_TOOLS ?? '').split(',').map((s) => s.trim());
  const found = hidden.includes(name) ? [] : spec.programs.map((p) => findProgram(p, env));
  const programs = found.filter((p): p is string => p !== undefined);
  const present = programs.length === spec.programs.length;
  return {
    name,
    ...(present ? { path: programs[0] } : {}),
    programs: present ? programs : [],
    install: spec.install,
    optional: spec.optional,
    missing: `${name} not installed — ${spec.install}`,
  };
}

/** The tool's path; a MissingToolError naming the install command when it is missing. */
export function requireTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string {
  const t = tool(name, env);
  if (t.path) return t.path;
  const why = t.optional && underCi(env) ? ' (required under CI; .ci/run installs it)' : '';
  throw new MissingToolError(`${t.missing}${why}`);
}

/**
 * For a check that needs an optional tool: the tool's path. When it is
 * missing, the check is skipped with the reason, except under CI (or for a
 * required tool), where it fails with the install command.
 */
export function toolOrSkip(ctx: Pick<TestContext, 'skip'>, name: ToolName, env = process.env): string {
  const t = tool(name, env);
  if (t.path) return t.path;
  if (t.optional && !underCi(env)) ctx.skip(t.missing);
  return requireTool(name, env);
}
