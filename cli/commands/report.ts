// `kura report lifecycle|inventory|validation [--format json|md|html]`:
// evidence for auditors. Each report adds its subcommand here.
import type { Command } from 'commander';
import { registerInventoryReport } from '../reports/inventory.ts';

const SUBCOMMANDS: Array<(report: Command) => void> = [registerInventoryReport];

export function registerReport(program: Command): void {
  const report = program.command('report').description('reports for auditors and operators');
  for (const add of SUBCOMMANDS) add(report);
}
