// `kura report inventory [--at ISO] [--days N] [--format table|json|md|html]`:
// every kura-managed recovery point with its age, the gaps in each scheduled
// series, the newest validated point, achieved RPO and last measured RTO per
// class, and what interrupted runs left behind.
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import {
  classRows,
  gapText,
  inventoryHtml,
  inventoryMarkdown,
  orphanRows,
  perAccountRows,
  pitrDrift,
  pointRows,
} from '../../shared/domain/reports/inventory.ts';
import { bothZones } from '../../shared/policy/calendar.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { buildInventoryReport } from '../../shared/usecases/report-inventory.ts';
import { commandDeps, parseTime, printJson } from '../support/context.ts';
import { reportPorts } from '../../shared/edge/report-ports.ts';

const FORMATS = ['table', 'json', 'md', 'html'];

export function registerInventoryReport(report: Command): void {
  report
    .command('inventory')
    .description(
      'every kura-managed recovery point with its age; gaps in the schedule; RPO and RTO per class',
    )
    .option('--format <format>', FORMATS.join(', '), 'table')
    .option('--at <time>', 'the time ages and gaps are measured at (ISO-8601); default: now')
    .option('--days <n>', 'the window in which missed runs are looked for', '30')
    .option(
      '--check',
      'exit with status 1 when a scheduled series has a gap or a point-in-time window falls short of the policy',
    )
    .action(async (opts: { format: string; at?: string; days: string; check?: boolean }, cmd: Command) => {
      const problems: string[] = [];
      if (!FORMATS.includes(opts.format))
        problems.push(`--format: found "${opts.format}"; expected one of ${FORMATS.join(', ')}`);
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 400)
        problems.push(`--days: found "${opts.days}"; expected a whole number from 1 to 400`);
      if (problems.length) throw new InputError(problems);
      const at = opts.at ? parseTime(opts.at, '--at') : new Date();
      const deps = commandDeps(cmd);
      const rep = await buildInventoryReport(deps, reportPorts(deps), { at, days });
      const gaps = rep.series.flatMap((s) => s.gaps.map((g) => `${s.class} ${s.source}: ${gapText(g)}`));
      const pitr = pitrDrift(rep);
      if (opts.check && (gaps.length || pitr.length)) process.exitCode = 1;
      if (opts.format === 'json') return printJson(rep);
      if (opts.format === 'md') return console.log(inventoryMarkdown(rep));
      if (opts.format === 'html') return void process.stdout.write(inventoryHtml(rep));
      console.log(
        `inventory of ${rep.bucket} at ${bothZones(rep.at, rep.timezone)} (window ${rep.windowDays} days)\n`,
      );
      console.log(formatTable(classRows(rep)));
      if (rep.accounts?.length) {
        console.log('\nper source account and region (where the recovery points live):');
        console.log(formatTable(perAccountRows(rep)));
      }
      console.log(`\ngaps in the scheduled series (${gaps.length}):`);
      console.log(gaps.length ? gaps.map((g) => `  ${g}`).join('\n') : '  none');
      console.log(`\npoint-in-time windows short of the policy (${pitr.length}):`);
      console.log(pitr.length ? pitr.map((p) => `  DRIFT ${p}`).join('\n') : '  none');
      console.log(`\norphans (${rep.orphans.length}):`);
      console.log(formatTable(orphanRows(rep)));
      console.log(`\nrecovery points (${rep.points.length}):`);
      console.log(formatTable(pointRows(rep)));
    });
}
