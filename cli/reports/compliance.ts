// `kura report compliance [--from D] [--to D] [--format table|json|md|html|csv] [--check]`:
// the policy, line by line, as controls with evidence over a period (default
// the last 12 months): PASS, FAIL or NOT EVALUATED (with why), each naming the
// policy key it comes from. --check exits 1 on any FAIL.
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import { bothZones, onCalendar, zoneOffset } from '../../shared/policy/calendar.ts';
import {
  complianceCsv,
  complianceHtml,
  complianceMarkdown,
  controlRows,
  failedControls,
} from '../../shared/domain/reports/compliance.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { buildComplianceReport } from '../../shared/usecases/report-compliance.ts';
import { commandDeps, commandPolicy, printJson } from '../support/context.ts';
import { reportPorts } from '../../shared/edge/report-ports.ts';

const FORMATS = ['table', 'json', 'md', 'html', 'csv'];
const MAX_DAYS = 1100;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** yyyy-mm-dd is a day in the policy's zone (its start; for --to its end); a time must carry its zone. */
export function parseBound(value: string, flag: string, timeZone: string, end: boolean): Date | string {
  if (DATE.test(value) && onCalendar(value)) {
    const noon = new Date(`${value}T12:00:00Z`);
    const start = new Date(`${value}T00:00:00${zoneOffset(noon, timeZone)}`);
    return end ? new Date(start.getTime() + 86_400_000) : start;
  }
  if (TIME.test(value) && onCalendar(value) && !Number.isNaN(Date.parse(value))) return new Date(value);
  return `${flag}: found "${value}"; expected a date yyyy-mm-dd (a day in ${timeZone}) or an ISO-8601 time with a zone such as 2026-11-01T00:00:00+09:00`;
}

export function registerComplianceReport(report: Command): void {
  report
    .command('compliance')
    .description(
      'the policy line by line as controls with evidence over a period: PASS / FAIL / NOT EVALUATED, each with its policy key',
    )
    .option(
      '--from <date>',
      'start of the period: yyyy-mm-dd (policy time zone) or ISO time; default 12 months before --to',
    )
    .option('--to <date>', 'end of the period: yyyy-mm-dd (its end) or ISO time; default now')
    .option('--format <format>', FORMATS.join(', '), 'table')
    .option('--check', 'exit with status 1 when any control FAILs')
    .action(async (opts: { from?: string; to?: string; format: string; check?: boolean }, cmd: Command) => {
      // Every flag is checked before the first AWS call.
      const policy = commandPolicy(cmd);
      const problems: string[] = [];
      if (!FORMATS.includes(opts.format))
        problems.push(`--format: found "${opts.format}"; expected one of ${FORMATS.join(', ')}`);
      const now = new Date();
      const to = opts.to ? parseBound(opts.to, '--to', policy.timezone, true) : now;
      let from: Date | string | undefined = opts.from
        ? parseBound(opts.from, '--from', policy.timezone, false)
        : undefined;
      if (typeof to === 'string') problems.push(to);
      if (typeof from === 'string') problems.push(from);
      if (to instanceof Date) {
        if (!from) {
          from = new Date(to);
          from.setUTCFullYear(from.getUTCFullYear() - 1);
        }
        if (from instanceof Date && from >= to)
          problems.push(
            `--from: ${from.toISOString()} is not before --to ${to.toISOString()}; expected an earlier start`,
          );
        if (from instanceof Date && to.getTime() - from.getTime() > MAX_DAYS * 86_400_000)
          problems.push(
            `--from/--to: a period of more than ${MAX_DAYS} days; expected at most about three years`,
          );
      }
      if (problems.length || !(to instanceof Date) || !(from instanceof Date)) throw new InputError(problems);
      const deps = commandDeps(cmd);
      const rep = await buildComplianceReport(deps, reportPorts(deps), { from, to, now });
      const failed = failedControls(rep);
      if (opts.check && failed.length) process.exitCode = 1;
      if (opts.format === 'json') return printJson(rep);
      if (opts.format === 'md') return console.log(complianceMarkdown(rep));
      if (opts.format === 'html') return void process.stdout.write(complianceHtml(rep));
      if (opts.format === 'csv') return void process.stdout.write(complianceCsv(rep));
      const s = rep.summary;
      console.log(
        `compliance of ${rep.bucket}, ${bothZones(rep.from, rep.timezone)} to ${bothZones(rep.to, rep.timezone)}`,
      );
      if (rep.emulator) console.log(`read from an emulator (${rep.emulator}): figures are not AWS's`);
      console.log(`\n${formatTable(controlRows(rep))}`);
      console.log(`\n${s.total} controls: ${s.pass} PASS, ${s.fail} FAIL, ${s.notEvaluated} NOT EVALUATED`);
      if (failed.length) console.log(`\nFAIL:\n  - ${failed.join('\n  - ')}`);
      console.log('\nevidence per control: --format md, html, json or csv');
    });
}
