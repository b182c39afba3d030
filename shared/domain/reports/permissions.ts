// Domain (reports): what each kura role may do (its granted statements), what
// the test suite saw it do (the requests the IAM front layer allowed, by the
// statement that allowed them), and what it must never do (the must-never
// checks). Granted and never used is either justified next to the grant
// (a `kept:` comment) or listed as a finding. Pure: the CLI gathers the inputs.
import { badge, esc, page, table } from './html.ts';

export interface GrantedStatement {
  /** `policy#Sid`, as the evaluator names the statement that decided. */
  id: string;
  actions: string[];
  resources: string[];
  conditional: boolean;
}

export interface RoleGrants {
  role: string;
  arn: string;
  /** Where the role is declared: the backup account's template or the isolated account's. */
  template: string;
  statements: GrantedStatement[];
}

export interface UsedCall {
  role: string;
  action: string;
  resource: string;
  /** The identity statements that allowed it (`policy#Sid`). */
  statements: string[];
}

export interface MustNeverLine {
  id: string;
  title: string;
  holds: boolean;
  violations: string[];
  roles: string[];
}

export interface GrantLine {
  statement: string;
  action: string;
  resources: string[];
  conditional: boolean;
  used: number;
  kept?: string;
}

export interface RolePermissions {
  role: string;
  arn: string;
  template: string;
  grants: GrantLine[];
  usedGrants: number;
  totalGrants: number;
  /** Actions called, with how often and on how many distinct resources. */
  did: { action: string; calls: number; resources: number }[];
  /** Granted, never used by the suite, and not justified next to the grant. */
  unjustified: string[];
  mustNever: string[];
}

export interface PermissionsReport {
  kind: 'kura.permissions-report';
  generatedAt: string;
  requests: number;
  denied: number;
  roles: RolePermissions[];
  mustNever: MustNeverLine[];
}

/** IAM action pattern (`s3:GetObject*`) as a test for one action. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(action);
}

export function buildPermissionsReport(input: {
  generatedAt: string;
  roles: RoleGrants[];
  used: UsedCall[];
  requests: number;
  denied: number;
  mustNever: MustNeverLine[];
  /** Justifications written next to grants (`kept: …`), by action pattern. */
  kept: Record<string, string>;
}): PermissionsReport {
  const roles = input.roles.map((r): RolePermissions => {
    const calls = input.used.filter((u) => u.role === r.role);
    const grants: GrantLine[] = r.statements.flatMap((s) =>
      s.actions.map((action) => ({
        statement: s.id,
        action,
        resources: s.resources,
        conditional: s.conditional,
        used: calls.filter((c) => c.statements.includes(s.id) && actionMatches(action, c.action)).length,
        ...(input.kept[action] ? { kept: input.kept[action] } : {}),
      })),
    );
    const did = new Map<string, { calls: number; resources: Set<string> }>();
    for (const c of calls) {
      const d = did.get(c.action) ?? { calls: 0, resources: new Set<string>() };
      d.calls++;
      d.resources.add(c.resource);
      did.set(c.action, d);
    }
    return {
      role: r.role,
      arn: r.arn,
      template: r.template,
      grants,
      usedGrants: grants.filter((g) => g.used > 0).length,
      totalGrants: grants.length,
      did: [...did.entries()]
        .map(([action, d]) => ({ action, calls: d.calls, resources: d.resources.size }))
        .sort((a, b) => a.action.localeCompare(b.action)),
      unjustified: grants.filter((g) => g.used === 0 && !g.kept).map((g) => `${g.statement}: ${g.action}`),
      mustNever: input.mustNever
        .filter((m) => m.roles.includes(r.role))
        .map((m) => `${m.holds ? 'holds' : 'VIOLATED'}: ${m.title}`),
    };
  });
  return {
    kind: 'kura.permissions-report',
    generatedAt: input.generatedAt,
    requests: input.requests,
    denied: input.denied,
    roles,
    mustNever: input.mustNever,
  };
}

export function roleRows(rep: PermissionsReport): Record<string, unknown>[] {
  return rep.roles.map((r) => ({
    role: r.role,
    template: r.template,
    'used/granted': `${r.usedGrants}/${r.totalGrants}`,
    calls: r.did.reduce((a, d) => a + d.calls, 0),
    'unused, unjustified': r.unjustified.length,
    'must-never': r.mustNever.every((m) => m.startsWith('holds')) ? `${r.mustNever.length} hold` : 'VIOLATED',
  }));
}

export function permissionsMarkdown(rep: PermissionsReport): string {
  const lines = [
    '# kura permissions: granted, used, never',
    '',
    `${rep.generatedAt}: ${rep.requests} requests evaluated, ${rep.denied} refused.`,
    '',
    '| role | template | used/granted | unused, unjustified |',
    '|---|---|---|---|',
    ...rep.roles.map(
      (r) => `| ${r.role} | ${r.template} | ${r.usedGrants}/${r.totalGrants} | ${r.unjustified.length} |`,
    ),
    '',
    '## Must never',
    '',
    ...rep.mustNever.map(
      (m) =>
        `- ${m.holds ? '✅' : '❌'} ${m.title}${m.violations.length ? `: ${m.violations.join('; ')}` : ''}`,
    ),
  ];
  for (const r of rep.roles) {
    lines.push(
      '',
      `## ${r.role}`,
      '',
      `\`${r.arn}\``,
      '',
      '| statement | action | used | kept because |',
      '|---|---|---|---|',
    );
    for (const g of r.grants) lines.push(`| ${g.statement} | ${g.action} | ${g.used} | ${g.kept ?? ''} |`);
  }
  return lines.join('\n');
}

export function permissionsHtml(rep: PermissionsReport): string {
  const summary = table(
    ['role', 'template', 'used/granted', 'calls', 'unused, unjustified', 'must-never'],
    roleRows(rep).map((r) => Object.values(r)),
    (i) => ((rep.roles[i]?.unjustified.length ?? 0) > 0 ? 'warn' : 'good'),
  );
  const bars = rep.roles
    .map((r, i) => {
      const w = r.totalGrants ? Math.round((r.usedGrants / r.totalGrants) * 300) : 0;
      return `<text x="0" y="${i * 22 + 15}" font-size="12">${esc(r.role)}</text><rect x="220" y="${i * 22 + 4}" width="300" height="14" fill="#d0d7de"/><rect x="220" y="${i * 22 + 4}" width="${w}" height="14" fill="#2da44e"/><text x="528" y="${i * 22 + 15}" font-size="12">${r.usedGrants}/${r.totalGrants}</text>`;
    })
    .join('');
  const chart = `<svg role="img" aria-label="used/granted per role" viewBox="0 0 600 ${rep.roles.length * 22 + 6}" width="600">${bars}</svg>`;
  const never = table(
    ['check', 'result', 'violations'],
    rep.mustNever.map((m) => [m.title, m.holds ? 'holds' : 'VIOLATED', m.violations.join('; ')]),
    (i) => (rep.mustNever[i]?.holds ? 'good' : 'bad'),
  );
  const perRole = rep.roles
    .map(
      (r) =>
        `<h2 id="${esc(r.role)}">${esc(r.role)} ${r.unjustified.length ? badge(`${r.unjustified.length} unjustified`, 'warn') : badge('all justified', 'ok')}</h2><p class="meta"><code>${esc(r.arn)}</code></p>` +
        '<h3>May do</h3>' +
        table(
          ['statement', 'action', 'resources', 'used', 'kept because'],
          r.grants.map((g) => [
            g.statement,
            g.action,
            g.resources.join(', ') + (g.conditional ? ' (conditions)' : ''),
            g.used,
            g.kept ?? '',
          ]),
          (i) => (r.grants[i]?.used ? 'good' : r.grants[i]?.kept ? undefined : 'warn'),
        ) +
        '<h3>Did</h3>' +
        table(
          ['action', 'calls', 'distinct resources'],
          r.did.map((d) => [d.action, d.calls, d.resources]),
        ) +
        '<h3>Must never</h3>' +
        table(
          ['check'],
          r.mustNever.map((m) => [m]),
        ),
    )
    .join('\n');
  return page(
    'kura permissions: granted, used, never',
    `${rep.generatedAt}: ${rep.requests} requests of the test suite evaluated against the deployed policies, ${rep.denied} refused`,
    `<h2>Used against granted, per role</h2>${chart}${summary}<h2>Must never</h2>${never}${perRole}`,
  );
}
