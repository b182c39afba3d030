// CLI entry: the `kura` command for on-call engineers, auditors and local runs.
import { Command } from 'commander';
import { DEFAULT_POLICY_PATH } from '../shared/policy/load.ts';
import { KuraError } from '../shared/runtime/errors.ts';
import { registerCommands } from './commands/index.ts';

const program = new Command('kura')
  .description('kura: serverless backups for AWS, restorable, rehearsed and reported')
  .option('--policy <file>', `policy file (default: $KURA_POLICY, else ${DEFAULT_POLICY_PATH})`)
  .option(
    '--isolated-profile <profile>',
    "AWS profile of the isolated account's administrator, for the on-call commands that look or act there (restore start/status/export/cleanup); default: $KURA_ISOLATED_PROFILE",
  )
  .option('--debug', 'print stack traces')
  .showHelpAfterError();

registerCommands(program);

/**
 * `kura restore --request file.json …` (the documented form) is
 * `kura restore start …`: commander lets a parent command consume its
 * subcommands' options, so the alias is made here rather than by giving the
 * `restore` group options of its own.
 */
export function expandRestoreAlias(args: string[]): string[] {
  let i = 0;
  while (i < args.length && args[i]?.startsWith('-')) i += args[i] === '--policy' ? 2 : 1;
  const next = args[i + 1];
  if (args[i] === 'restore' && next?.startsWith('-') && next !== '--help' && next !== '-h') {
    return [...args.slice(0, i + 1), 'start', ...args.slice(i + 1)];
  }
  return args;
}

try {
  await program.parseAsync(expandRestoreAlias(process.argv.slice(2)), { from: 'user' });
} catch (err) {
  const debug = program.opts().debug === true;
  if (err instanceof KuraError && !debug) {
    console.error(`kura: ${err.message}`);
    process.exitCode = err.name === 'InputError' || err.name === 'PolicyError' ? 2 : 1;
  } else {
    console.error(debug ? err : `kura: ${(err as Error).message ?? err} (use --debug for details)`);
    process.exitCode = 1;
  }
}
