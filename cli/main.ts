// CLI entry: the `kura` command for on-call engineers, auditors and local runs.
import { Command } from 'commander';
import { KuraError } from '../shared/runtime/errors.ts';
import { registerCommands } from './commands/index.ts';

const program = new Command('kura')
  .description('kura: serverless backups for AWS, restorable, rehearsed and reported')
  .option('--policy <file>', 'policy file (default: $KURA_POLICY or ./backup-policy.yml)')
  .option('--debug', 'print stack traces')
  .showHelpAfterError();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
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
