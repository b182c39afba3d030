// `kura restore …`: putting backups back. Each backup class adds its
// subcommand here; the orchestrated restore (restore state machine) too.
import type { Command } from 'commander';

/** Subcommand registrations, one per class. */
const SUBCOMMANDS: Array<(restore: Command) => void> = [];

export function registerRestore(program: Command): void {
  const restore = program.command('restore').description('restore backups (each class, or an orchestrated restore)');
  for (const add of SUBCOMMANDS) add(restore);
}
