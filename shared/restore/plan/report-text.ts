// Restore (domain): the report for people: the clean-up commands per account,
// the routes in, and the Markdown. Pure.
import { bothZones } from '../../policy/calendar.ts';
import { ISOLATED_PROFILE } from '../../domain/operator-commands.ts';
import type { RestoreReport } from './report.ts';

const fmtDuration = (s?: number) =>
  s === undefined ? '-' : s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;

/** The clean-up commands, grouped by the account they must run in (kura's own command first). */
export function cleanupLines(r: RestoreReport): string[] {
  if (r.exists.length === 0) return [];
  const lines = [
    `npx kura restore cleanup ${r.requestId} --isolated-profile ${ISOLATED_PROFILE}    # removes all of it, in every account: the isolated one with that profile (docs/runbook.md), the source with your default credentials`,
    '',
    'or by hand, account by account:',
  ];
  const accounts = [...new Set(r.exists.map((x) => x.account))];
  for (const a of accounts) {
    const where =
      a === r.target.accountId
        ? `in the isolated account ${a} (credentials of that account, e.g. --profile ${ISOLATED_PROFILE})`
        : `in account ${a} (the source account: kura's own credentials)`;
    lines.push(`  # ${where}`);
    for (const x of r.exists.filter((e) => e.account === a)) lines.push(`  ${x.cleanup}`);
  }
  return lines;
}

/** How to reach what was restored, one block per item: route, user, where the secret is, how to export. */
export function accessLines(r: RestoreReport): string[] {
  const out: string[] = [];
  for (const i of r.items) {
    const a = i.access;
    if (!a) continue;
    out.push(`${a.item}:`);
    const s3 = a.endpoint?.startsWith('s3://');
    if (a.endpoint)
      out.push(
        `  ${s3 ? 'where' : 'endpoint'}: ${a.endpoint}${a.port ? ` port ${a.port}` : ''} (${s3 ? 'in the isolated account' : 'inside the isolated VPC'})`,
      );
    if (a.user) out.push(`  user: ${a.user}`);
    if (a.secret)
      out.push(
        `  password: in Secrets Manager of account ${a.secret.account} (${a.secret.region}), ${a.secret.arn}; a fresh one for this copy, never printed, not production's`,
      );
    if (a.route.kind === 'none') out.push(`  route in: none yet: ${a.route.why}`);
    else {
      out.push(
        `  route in: ${a.route.kind === 'session-manager' ? `Session Manager via ${a.route.via}` : 'the AWS API'}`,
      );
      for (const c of a.route.commands) out.push(`    ${c}`);
      if (a.route.note) out.push(`    (${a.route.note})`);
    }
    if (a.export) out.push(`  bring data back: ${a.export}`);
  }
  return out;
}

export function reportMarkdown(r: RestoreReport): string {
  const tz = r.timezone ?? 'UTC';
  const lines: string[] = [];
  lines.push(`# Restore ${r.requestId}: ${r.status}`, '');
  lines.push(`- Reason: ${r.reason}${r.ticket ? ` (ticket ${r.ticket})` : ''}`);
  lines.push(`- Into: account ${r.target.accountId}, region ${r.target.region}`);
  if (r.at)
    lines.push(
      `- Consistent point: every class from the recovery point closest at or before ${bothZones(r.at, tz)}`,
    );
  lines.push(
    `- From ${bothZones(r.startedAt, tz)} to ${bothZones(r.finishedAt, tz)} (${fmtDuration(r.durationSeconds)})`,
    '',
  );
  if (r.failure) lines.push(`**Failed:** ${r.failure.error}: ${r.failure.cause}`, '');
  lines.push('## What was restored', '');
  lines.push('| item | status | recovery point | taken at | endpoint / where | took | RTO |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const i of r.items) {
    const where = i.endpoint ?? (i.resources.map((x) => `${x.type} ${x.id}`).join('<br>') || '-');
    const rto = `${i.rtoMinutes} min${i.withinRto === undefined ? '' : i.withinRto ? ' ✓' : ' ✗ exceeded'}`;
    lines.push(
      `| ${i.class} ${i.source} | ${i.status}${i.error ? `: ${i.error}` : ''} | ${i.recoveryPoint.id} | ${bothZones(i.recoveryPoint.time, tz)} | ${where} | ${fmtDuration(i.durationSeconds)} | ${rto} |`,
    );
  }
  lines.push('', '## Time per part against the RTO', '');
  lines.push('| part | items | took | RTO | within |', '|---|---|---|---|---|');
  for (const p of r.phases) {
    lines.push(
      `| ${p.phase} | ${p.items} | ${fmtDuration(p.durationSeconds)} | ${p.rtoMinutes} min | ${p.withinRto === undefined ? '-' : p.withinRto ? 'yes' : 'NO'} |`,
    );
  }
  const access = accessLines(r);
  if (access.length) lines.push('', '## How to reach what was restored', '', '```', ...access, '```');
  lines.push('', '## What exists now', '');
  if (r.exists.length === 0) lines.push('Nothing was created.');
  for (const x of r.exists) lines.push(`- ${x.type} \`${x.id}\` in account ${x.account}, ${x.region}`);
  lines.push('', '## Clean up (when the restored copies are no longer needed)', '');
  const cleanup = cleanupLines(r);
  if (cleanup.length === 0) lines.push('Nothing to clean up.');
  else lines.push('```sh', ...cleanup, '```');
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}
