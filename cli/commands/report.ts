// `kura report lifecycle|inventory|validation|compliance|permissions [--format json|md|html]`:
// evidence for auditors. Each report adds its subcommand here.
import type { Command } from 'commander';
import { registerComplianceReport } from '../reports/compliance.ts';
import { registerInventoryReport } from '../reports/inventory.ts';
import { registerLifecycleReport } from '../reports/lifecycle.ts';
import { registerPermissionsReport } from '../reports/permissions.ts';
import { registerValidationReport } from '../reports/validation.ts';

const SUBCOMMANDS: Array<(report: Command) => void> = [
  registerInventoryReport,
  registerLifecycleReport,
  registerPermissionsReport,
  registerValidationReport,
  registerComplianceReport,
];

export function registerReport(program: Command): void {
  const report = program.command('report').description('reports for auditors and operators');
  for (const add of SUBCOMMANDS) add(report);
}
