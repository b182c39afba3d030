// `kura report permissions [--requests file] [--template file] [--format table|json|md|html]`:
// per role, what it may do (the packaged template and deploy/isolated-account.yml),
// what it did (the requests the IAM front layer recorded during `npm test` or
// `kura demo`, by the statement that allowed each) and what it must never do
// (the must-never checks, evaluated against the same policies). Test-time
// tooling: the evaluator (@cloud-copilot/iam-simulate) is a devDependency.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import type { CfnTemplate } from '../../local/iam/cfn.ts';
import type { RequestRecord } from '../../local/iam/front.ts';
import {
  buildPermissionsReport,
  type GrantedStatement,
  permissionsHtml,
  permissionsMarkdown,
  type RoleGrants,
  roleRows,
  type UsedCall,
} from '../../shared/domain/reports/permissions.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { commandPolicy, printJson } from '../support/context.ts';

const FORMATS = ['table', 'json', 'md', 'html'];
const ROOT = resolve(import.meta.dirname, '../..');
const TEMPLATES = [
  join(ROOT, '.serverless/cloudformation-template-update-stack.json'),
  join(ROOT, '.kura/sls-test/cloudformation-template-update-stack.json'),
];
export const DEFAULT_REQUESTS = join(ROOT, '.kura/iam-run/requests.jsonl');

/** Justifications written next to grants: `- action # kept: why` (YAML) or `'action', // kept: why` (TS). */
export function keptReasons(): Record<string, string> {
  const files = [
    ...readdirSync(join(ROOT, 'deploy/iam')).map((f) => join(ROOT, 'deploy/iam', f)),
    join(ROOT, 'deploy/isolated-account.yml'),
    join(ROOT, 'deploy/template.ts'),
  ];
  const out: Record<string, string> = {};
  for (const f of files)
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const one = /([a-z0-9-]+:[A-Za-z*]+)['"]?,?\s*(?:#|\/\/) kept: (.+)$/.exec(line);
      if (one?.[1] && one[2]) out[one[1]] = one[2].trim();
      // `# kept (a:X, b:Y): why` next to a grant of several actions (an AWS managed policy).
      const many = /(?:#|\/\/) kept \(([^)]+)\): (.+)$/.exec(line);
      if (many?.[1] && many[2]) for (const a of many[1].split(',')) out[a.trim()] = many[2].trim();
    }
  return out;
}

const list = (v: unknown): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];

export function readRequests(file: string): RequestRecord[] {
  if (!existsSync(file))
    throw new InputError([
      `--requests ${file}: not found; run \`npm test\` (or \`kura demo\`) first: the IAM front layer records every request there`,
    ]);
  const expected = new Set<number>();
  const records: RequestRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as RequestRecord & { expected?: number[] };
    if (Array.isArray(r.expected)) for (const s of r.expected) expected.add(s);
    else records.push(r);
  }
  return records.map((r) => (expected.has(r.seq) ? { ...r, expected: true } : r));
}

export function registerPermissionsReport(report: Command): void {
  report
    .command('permissions')
    .description('per role: what it may do, what the test suite saw it do, and what it must never do')
    .option('--format <format>', FORMATS.join(', '), 'table')
    .option('--requests <file>', 'the IAM front layer journal (JSONL)', DEFAULT_REQUESTS)
    .option('--template <file>', "`sls package`'s template (default: .serverless/, else the suite's)")
    .option(
      '--check',
      'exit with status 1 when a must-never check fails or a grant is unused and unjustified',
    )
    .action(
      async (
        opts: { format: string; requests: string; template?: string; check?: boolean },
        cmd: Command,
      ) => {
        if (!FORMATS.includes(opts.format))
          throw new InputError([`--format: found "${opts.format}"; expected one of ${FORMATS.join(', ')}`]);
        const templateFile = opts.template ?? TEMPLATES.find((t) => existsSync(t));
        if (!templateFile || !existsSync(templateFile))
          throw new InputError([
            `--template: no packaged template found; run \`npx sls package\` first (looked for ${TEMPLATES.join(', ')})`,
          ]);
        const packaged = JSON.parse(readFileSync(templateFile, 'utf8')) as CfnTemplate;
        // The evaluator loads AWS's action catalogue: only for this command.
        const { buildDeployment } = await import('../../local/iam/deployment.ts');
        const { checkMustNever } = await import('../../local/iam/must-never.ts');
        const { roleLabel } = await import('../../local/iam/principal-of.ts');
        const policy = commandPolicy(cmd);
        const deployment = buildDeployment(packaged, loadPolicy(), policy);
        const records = readRequests(opts.requests);
        const roles: RoleGrants[] = [...deployment.roles.values()].map((role) => ({
          role: roleLabel(role),
          arn: role.arn,
          template:
            role.source === 'isolated-template'
              ? 'isolated-account.yml'
              : role.source === 'source-template'
                ? 'source-account.yml'
                : 'serverless (sls package)',
          statements: role.policies.flatMap((p) =>
            // Named as the evaluator names them: the Sid, else the statement's 1-based position.
            (list(p.policy.Statement).length
              ? Array.isArray(p.policy.Statement)
                ? p.policy.Statement
                : [p.policy.Statement]
              : []
            )
              .map((s, i) => ({
                s: s as Record<string, unknown>,
                id: `${p.name}#${(s as { Sid?: string }).Sid ?? i + 1}`,
              }))
              .filter(({ s }) => s.Effect === 'Allow')
              .map(
                ({ s, id }): GrantedStatement => ({
                  id,
                  actions: list(s.Action),
                  resources: list(s.Resource).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))),
                  conditional: s.Condition !== undefined,
                }),
              ),
          ),
        }));
        const used: UsedCall[] = records
          .filter((r) => !r.denied)
          .flatMap((r) =>
            r.needs
              .filter((n) => n.allowed && n.deciding.length)
              .map((n) => ({
                role: r.principal,
                action: n.action,
                resource: n.resource,
                statements: n.deciding,
              })),
          );
        const rep = buildPermissionsReport({
          generatedAt: new Date().toISOString(),
          roles,
          used,
          requests: records.length,
          denied: records.filter((r) => r.denied && !r.expected).length,
          mustNever: await checkMustNever(deployment),
          kept: keptReasons(),
        });
        if (
          opts.check &&
          (rep.mustNever.some((m) => !m.holds) || rep.roles.some((r) => r.unjustified.length))
        )
          process.exitCode = 1;
        if (opts.format === 'json') return printJson(rep);
        if (opts.format === 'md') return console.log(permissionsMarkdown(rep));
        if (opts.format === 'html') return void process.stdout.write(permissionsHtml(rep));
        console.log(`permissions: ${rep.requests} requests evaluated, ${rep.denied} refused\n`);
        console.log(formatTable(roleRows(rep)));
        console.log('\nmust never:');
        for (const m of rep.mustNever)
          console.log(
            `  ${m.holds ? 'holds   ' : 'VIOLATED'} ${m.title}${m.violations.length ? `\n    ${m.violations.join('\n    ')}` : ''}`,
          );
        const unjustified = rep.roles.flatMap((r) => r.unjustified.map((u) => `${r.role}: ${u}`));
        console.log(`\ngranted, never used, not justified (${unjustified.length}):`);
        console.log(unjustified.length ? unjustified.map((u) => `  ${u}`).join('\n') : '  none');
      },
    );
}
