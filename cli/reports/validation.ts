// `kura report validation [--run <id>|--latest] [--verify] [--format table|json|md|html]`:
// the monthly validation reports from the vault: by default the history of
// every run (verdict, counts, SHA-256, chain link), one report with --run or
// --latest, and the hash chain that links them (each report carries the
// SHA-256 of the one before).
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import { listRehearsalReports, listReports } from '../../shared/aws/validation-reports.ts';
import {
  accountLines,
  renderHtml,
  renderMarkdown,
  type ValidationReport,
  verdictText,
  verifyChain,
} from '../../shared/domain/validation-report.ts';
import {
  historyHtml,
  historyMarkdown,
  historyRows,
  missedMonths,
  monthWord,
  validationHistory,
} from '../../shared/domain/reports/validation-history.ts';
import { bothZones } from '../../shared/policy/calendar.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { earliestBackup, readFirstPoints } from '../../shared/usecases/report-inventory.ts';
import { commandDeps, printJson } from '../support/context.ts';
import { reportPorts } from '../../shared/edge/report-ports.ts';

const FORMATS = ['table', 'json', 'md', 'html'];

export function registerValidationReport(report: Command): void {
  report
    .command('validation')
    .description(
      'monthly validation runs and yearly rehearsals: the history of all of them, one with --run or --latest; --verify checks the hash chain',
    )
    .option(
      '--run <id>',
      'one run by its id (yyyymmddHHMM of the scheduled time; rehearsal-yyyymmddHHMM for a rehearsal)',
    )
    .option('--latest', 'the newest run')
    .option('--verify', 'verify the hash chain over every report; exits non-zero when it is broken')
    .option('--format <format>', `${FORMATS.join(', ')}`, 'table')
    .action(
      async (opts: { run?: string; latest?: boolean; verify?: boolean; format: string }, cmd: Command) => {
        if (!FORMATS.includes(opts.format))
          throw new InputError([`--format: found "${opts.format}"; expected one of ${FORMATS.join(', ')}`]);
        const deps = commandDeps(cmd);
        const all = await listReports(deps);
        const rehearsalReports = await listRehearsalReports(deps);
        if (opts.verify) {
          // Two chains: the monthly runs, and the yearly rehearsals beside them.
          const chain = verifyChain(all);
          const rehearsalChain = verifyChain(rehearsalReports);
          if (opts.format === 'json') printJson({ ...chain, rehearsals: rehearsalChain });
          else {
            const rows = [...chain.reports, ...rehearsalChain.reports].map((r) => ({
              report: r.key,
              verdict: r.verdict,
              sha256: r.sha256,
              linked: r.linked ? 'yes' : `NO: ${r.problem}`,
            }));
            console.log(formatTable(rows));
            const problems = [...chain.problems, ...rehearsalChain.problems];
            console.log(
              problems.length === 0
                ? `\nchain intact: ${all.length} report(s), ${rehearsalReports.length} rehearsal report(s)`
                : `\nchain BROKEN:\n  - ${problems.join('\n  - ')}`,
            );
          }
          if (!chain.ok || !rehearsalChain.ok) process.exitCode = 1;
          return;
        }
        if (!opts.run && !opts.latest) {
          const since = earliestBackup(await readFirstPoints(reportPorts(deps), []));
          const h = validationHistory(all, new Date(), { policy: deps.policy, since });
          const rh = validationHistory(rehearsalReports, new Date());
          if (opts.format === 'json') printJson({ ...h, rehearsals: rh });
          else if (opts.format === 'md') console.log(historyMarkdown(h, rh));
          else if (opts.format === 'html') process.stdout.write(historyHtml(h, rh));
          else {
            console.log(formatTable(historyRows(h)));
            console.log(
              rh.runs.length
                ? `\nyearly rehearsals (hash chain ${rh.chainOk ? 'intact' : 'BROKEN'}):\n${formatTable(historyRows(rh))}`
                : '\nyearly rehearsals: none yet (schedules.rehearsal)',
            );
            console.log(
              `\nmonth by month (${h.timezone}): ${(h.months ?? []).map((m) => `${m.month} ${monthWord(m)}`).join(', ') || 'no validation schedule'}`,
            );
            const missed = missedMonths(h);
            if (missed.length) console.log(`missed or failed: ${missed.map((m) => m.title).join('; ')}`);
            console.log(
              `\n${h.runs.length} run(s); hash chain ${h.chainOk ? 'intact' : `BROKEN:\n  - ${h.problems.join('\n  - ')}`}`,
            );
          }
          return;
        }
        const pick = opts.run
          ? [...all, ...rehearsalReports].find((r) => r.key.endsWith(`/${opts.run}/report.json`))
          : all.at(-1);
        if (!pick) {
          throw new InputError([
            opts.run
              ? `--run: no validation report for run "${opts.run}"`
              : `no validation report under s3://${deps.policy.vault.bucket}/${deps.policy.vault.reportsPrefix}validation/ yet`,
          ]);
        }
        const r = JSON.parse(pick.body) as ValidationReport;
        if (opts.format !== 'table') {
          process.stdout.write(
            opts.format === 'json'
              ? pick.body
              : opts.format === 'md'
                ? renderMarkdown(r, deps.policy.timezone)
                : renderHtml(r, deps.policy.timezone),
          );
          return;
        }
        console.log(
          `${r.runId} (${bothZones(r.time, deps.policy.timezone)}): ${verdictText(r)} — ${r.summary}`,
        );
        console.log(
          formatTable(
            r.items.map((i) => ({
              class: i.class,
              source: i.source,
              // With sources: where each item comes from (single-account reports have no such columns).
              ...(r.accounts?.length
                ? { account: i.account ?? '-', sourceRegion: i.sourceRegion ?? '-' }
                : {}),
              recoveryPoint: i.recoveryPoint?.id ?? '-',
              status: i.status,
              restoreMin: i.restore ? (i.restore.durationSeconds / 60).toFixed(1) : '',
              rtoMin: i.restore ? `${i.restore.rtoMinutes}${r.measuredOn ? ' (emulator)' : ''}` : '',
              rpoMin: i.achievedRpoMinutes ?? '',
              cleanup: i.cleanup.status,
              reason: i.reason ?? '',
            })),
          ),
        );
        for (const line of accountLines(r)) console.log(line);
        if (r.leftovers.length) console.log(`left behind: ${r.leftovers.join(', ')}`);
        for (const w of r.warnings) console.log(`warning: ${w}`);
      },
    );
}
