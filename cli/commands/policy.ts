// `kura policy check|schedules`: validate the policy and show what it drives.
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import { occurrences } from '../../shared/domain/schedule-occurrences.ts';
import { schedulesFromPolicy } from '../../shared/domain/schedules.ts';
import { addDays } from '../../shared/policy/calendar.ts';
import { sourceStackParameters } from '../../deploy/source-stack.ts';
import { policyPath } from '../../shared/policy/load.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { commandPolicy, globalOpts, printJson } from '../support/context.ts';

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('validate the backup policy and show what it drives');
  policy
    .command('check')
    .description('validate the policy file; lists every problem with its key path')
    .action((_opts, cmd: Command) => {
      commandPolicy(cmd);
      console.log(`${policyPath(globalOpts(cmd).policy)}: valid`);
    });
  policy
    .command('schedules')
    .description('the EventBridge Scheduler schedules generated from the policy')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const schedules = schedulesFromPolicy(commandPolicy(cmd));
      if (opts.json) return printJson(schedules);
      const now = new Date();
      const next = (expr: string, tz: string) =>
        occurrences(expr, tz, now, addDays(now, 40))[0]?.toLocaleString('sv-SE', { timeZone: tz }) ?? '';
      console.log(
        formatTable(
          schedules.map((s) => ({
            target: s.target,
            kind: s.kind,
            expression: s.expression,
            timezone: s.timezone,
            next: next(s.expression, s.timezone),
          })),
        ),
      );
    });
  policy
    .command('source-stack')
    .description("deploy/source-account.yml's parameters for one source account of the policy")
    .requiredOption('--account <id>', 'the source account (one of sources[].accountId)')
    .requiredOption('--backup-account <id>', 'the account kura is deployed in')
    .option('--stage <stage>', 'the stage kura is deployed as', 'prod')
    .option('--json', 'print JSON')
    .action(
      (opts: { account: string; backupAccount: string; stage: string; json?: boolean }, cmd: Command) => {
        if (!/^\d{12}$/.test(opts.backupAccount))
          throw new InputError([
            `--backup-account: found "${opts.backupAccount}"; expected a 12-digit account id`,
          ]);
        let params: Record<string, string>;
        try {
          params = sourceStackParameters(commandPolicy(cmd), opts.account, opts.backupAccount, opts.stage);
        } catch (err) {
          if (err instanceof InputError) throw err;
          throw new InputError([`--account: ${(err as Error).message}`]);
        }
        if (opts.json) return printJson(params);
        console.log(
          Object.entries(params)
            .map(([k, v]) => `${k}=${v}`)
            .join(' \\\n  '),
        );
      },
    );
}
