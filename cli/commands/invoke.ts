// `kura invoke <function> --time <ISO>`: runs one handler in-process with a
// synthetic EventBridge Scheduler event, prints its JSON result, exits
// non-zero on failure. (contract)
import type { Command } from 'commander';
import { FUNCTIONS, functionNames } from '../../functions/registry.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { commandDeps, confirmChange, parseTime, printJson, readJsonObject } from '../support/context.ts';

/** Function-specific flags after the known ones (e.g. --instance, --reason) go into event.detail. */
export function extraFlags(args: string[]): Record<string, string | true> {
  const detail: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) throw new InputError([`unexpected argument "${arg}"; expected --name value`]);
    const [name, inline] = arg.slice(2).split(/=(.*)/s) as [string, string | undefined];
    const next = args[i + 1];
    if (inline !== undefined) detail[name] = inline;
    else if (next !== undefined && !next.startsWith('--')) {
      detail[name] = next;
      i++;
    } else detail[name] = true;
  }
  return detail;
}

export function registerInvoke(program: Command): void {
  program
    .command('invoke')
    .description('run one function in-process against the AWS endpoint the environment names')
    .argument('<function>', `one of: ${functionNames().join(', ')}`)
    .requiredOption('--time <ISO>', 'the scheduled time of the synthetic event (the run\'s "now")')
    .option(
      '--event <file>',
      'a JSON event to send instead of the synthetic one (its time is replaced by --time)',
    )
    .option('-y, --yes', 'do not ask for confirmation')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .addHelpText(
      'after',
      '\nFunction-specific flags (e.g. --instance i-123 --reason "after upgrade") go into event.detail.',
    )
    .action(async (name: string, opts: { time: string; event?: string; yes?: boolean }, cmd: Command) => {
      const load = FUNCTIONS[name];
      if (!load)
        throw new InputError([
          `function "${name}" is unknown; expected one of ${functionNames().join(', ')}`,
        ]);
      const time = parseTime(opts.time);
      const base: { detail?: Record<string, unknown> } = opts.event
        ? readJsonObject(opts.event, '--event', '{"detail": {"instance": "i-0123456789abcdef0"}}')
        : syntheticScheduledEvent(time);
      const event = {
        ...base,
        time: time.toISOString(),
        detail: { ...(base.detail ?? {}), ...extraFlags(cmd.args.slice(1)) },
      };
      const deps = commandDeps(cmd);
      await confirmChange(
        `invoke ${name} for ${event.time} against ${deps.clients.endpoint ?? `AWS ${deps.clients.region}`}`,
        opts.yes,
      );
      const run = await load();
      const result = (await run(event, deps)) as { ok?: boolean };
      printJson(result);
      if (result && result.ok === false) process.exitCode = 1;
    });
}
