// `kura restore …`: putting backups back. Each backup class adds its
// subcommand here; the orchestrated restore (restore state machine) too.
import type { Command } from 'commander';
import { registerRestoreCleanup } from '../restore/cleanup.ts';
import { registerRestoreExport } from '../restore/export.ts';
import { registerOrchestratedRestore } from '../restore/orchestrated.ts';
import { registerContentRestore } from '../content/restore.ts';
import { registerLogsRestore } from '../logs/restore.ts';

/** Subcommand registrations, one per class. */
const SUBCOMMANDS: Array<(restore: Command) => void> = [
  registerContentRestore,
  registerLogsRestore,
  registerOrchestratedRestore,
  registerRestoreExport,
  registerRestoreCleanup,
];

export function registerRestore(program: Command): void {
  const restore = program
    .command('restore')
    .description('restore backups (each class, or an orchestrated restore)')
    .addHelpText(
      'after',
      '\n`kura restore --request file.json [--local] [--yes]` is short for `kura restore start --request file.json …`.',
    );
  for (const add of SUBCOMMANDS) add(restore);
}
