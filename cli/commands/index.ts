// The CLI's command modules. Each registers itself on the program.
import type { Command } from 'commander';
import { registerDemo } from './demo.ts';
import { registerInvoke } from './invoke.ts';
import { registerPolicy } from './policy.ts';
import { registerReport } from './report.ts';
import { registerRestore } from './restore.ts';
import { registerRun } from './run.ts';
import { registerVerify } from './verify.ts';

export function registerCommands(program: Command): void {
  registerInvoke(program);
  registerRun(program);
  registerRestore(program);
  registerVerify(program);
  registerReport(program);
  registerPolicy(program);
  registerDemo(program);
}
