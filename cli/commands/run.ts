// `kura run <statemachine> [--input file] [--time ISO]`: runs a definition from
// statemachines/ locally with its Lambda tasks routed to the same handlers.
// (contract)
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { runStateMachine } from '../../local/state-machine-runner.ts';
import { commandDeps, confirmChange, parseTime, printJson, readJsonObject } from '../support/context.ts';

export function stateMachineNames(): string[] {
  const dir = fileURLToPath(new URL('../../statemachines/', import.meta.url));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.asl.yml'))
    .map((f) => f.replace(/\.asl\.yml$/, ''))
    .sort();
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a state machine from statemachines/ locally, tasks routed to the in-process handlers')
    .argument('<statemachine>', `one of: ${stateMachineNames().join(', ') || '(none yet)'}`)
    .option('--input <file>', 'JSON input for the execution')
    .option('--time <ISO>', 'the execution time passed as input.time (default: now)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (name: string, opts: { input?: string; time?: string; yes?: boolean }, cmd: Command) => {
      const time = opts.time ? parseTime(opts.time) : new Date();
      const input = {
        ...(opts.input ? readJsonObject(opts.input, '--input', '{"request": {...}}') : {}),
        time: time.toISOString(),
      };
      const deps = commandDeps(cmd);
      await confirmChange(`run state machine ${name} locally for ${input.time}`, opts.yes);
      const outcome = await runStateMachine(name, input, {
        deps,
        onEvent: (e) => {
          if (e.type === 'StateEntered') process.stderr.write(`  → ${e.state}\n`);
          if (e.type === 'StateFailed' || e.type === 'ExecutionFailed')
            process.stderr.write(`  ✗ ${e.state ?? ''} ${e.error ?? ''} ${e.cause ?? ''}\n`);
        },
      });
      printJson(outcome);
      if (outcome.status !== 'SUCCEEDED') process.exitCode = 1;
    });
}
