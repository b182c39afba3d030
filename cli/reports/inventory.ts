// `kura report inventory`: every kura-managed recovery point, per class.
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import { type InventoryItem, inventory } from '../../shared/usecases/inventory.ts';
import { commandDeps, printJson } from '../support/context.ts';

function markdown(items: InventoryItem[]): string {
  const head =
    '| class | source | recovery point | time | region | status | validated |\n|---|---|---|---|---|---|---|';
  return [
    head,
    ...items.map(
      (i) =>
        `| ${i.class} | ${i.source} | ${i.id} | ${i.time} | ${i.region} | ${i.status} | ${i.validated ?? ''} |`,
    ),
  ].join('\n');
}

export function registerInventoryReport(report: Command): void {
  report
    .command('inventory')
    .description('every kura-managed recovery point, per class and source')
    .option('--format <format>', 'table, json or md', 'table')
    .action(async (opts: { format: string }, cmd: Command) => {
      const items = await inventory(commandDeps(cmd));
      if (opts.format === 'json') return printJson(items);
      if (opts.format === 'md') return console.log(markdown(items));
      console.log(formatTable(items as unknown as Record<string, unknown>[]));
    });
}
