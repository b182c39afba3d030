// `kura restore cleanup <id> [--yes] [--json]`: removes everything one
// orchestrated restore made, in every account, and says what it removed.
// In the isolated account it acts with that account's administrator profile
// (--isolated-profile): the restore role there trusts only kura's functions.
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import { awsCleanupPorts } from '../../shared/edge/restore-ports.ts';
import { existsText } from '../../shared/restore/live-state.ts';
import { planCleanup, REQUEST_ID, runCleanup } from '../../shared/usecases/restore-cleanup.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { commandDeps, confirmChange, printJson } from '../support/context.ts';

export function registerRestoreCleanup(restore: Command): void {
  restore
    .command('cleanup')
    .description(
      'remove everything a restore made (the isolated account with --isolated-profile, the source account with your default credentials) and report what was removed',
    )
    .argument('<id>', 'restore id (kura restore list)')
    .option('--wait <minutes>', 'how long to wait for resources still being deleted', '30')
    .option('--json', 'print the result as JSON')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (id: string, f: { wait: string; json?: boolean; yes?: boolean }, cmd: Command) => {
      const wait = Number(f.wait);
      const problems: string[] = [];
      if (!REQUEST_ID.test(id))
        problems.push(
          `<id>: found "${id}"; expected a restore id (a-z, 0-9, -; 3 to 24 characters) as kura restore list shows it`,
        );
      if (!Number.isFinite(wait) || wait < 0 || wait > 240)
        problems.push(`--wait: found "${f.wait}"; expected minutes from 0 to 240`);
      if (problems.length) throw new InputError(problems);
      const deps = commandDeps(cmd);
      const ports = awsCleanupPorts(deps);
      const plan = await planCleanup(deps, id, ports);
      const there = plan.resources.filter((r) => r.exists !== false);
      process.stderr.write(
        `restore ${id} (${plan.state.plan.reason}): ${plan.resources.length} resource(s) recorded, ${there.length} still exist\n`,
      );
      if (plan.resources.length)
        process.stderr.write(
          `${formatTable(plan.resources.map((r) => ({ resource: `${r.type} ${r.id}`, account: r.account, region: r.region, exists: existsText(r) })))}\n`,
        );
      const accounts = [...new Set(there.map((r) => r.account))]
        .map((a) => (a === plan.target.accountId ? `${a} (isolated, as ${deps.isolated?.label ?? 'the restore role'})` : `${a} (source)`))
        .join(' and ');
      if (there.length)
        await confirmChange(
          `remove ${there.length} resource(s) of restore ${id} in account ${accounts}`,
          f.yes,
        );
      const result = await runCleanup(deps, plan, ports, {
        maxWaitSeconds: wait * 60,
        onProgress: (l) => process.stderr.write(`${l}\n`),
      });
      if (result.remaining > 0) process.exitCode = 1;
      if (f.json) return printJson(result);
      process.stdout.write(
        `${formatTable(result.entries.map((e) => ({ resource: `${e.type} ${e.id}`, account: e.account, result: e.result, detail: e.detail ?? '' })))}\n`,
      );
      process.stdout.write(
        `\nrestore ${id}: ${result.removed} removed, ${result.alreadyGone} already gone, ${result.remaining} remaining\n`,
      );
      for (const e of result.entries.filter((x) => x.result === 'still there' || x.result === 'failed'))
        process.stdout.write(`  by hand, in account ${e.account}: ${e.cleanup}\n`);
    });
}
