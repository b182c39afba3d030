// `kura restore status|list`: one restore's state read live, and the
// restores recorded in the vault.
import type { Command } from 'commander';
import { formatTable } from '../../../local/demo/format.ts';
import { awsLeftovers } from '../../../shared/aws/isolated-leftovers.ts';
import { vaultRestoreStore } from '../../../shared/aws/restore-store.ts';
import { bothZones } from '../../../shared/policy/calendar.ts';
import { existsText, liveState } from '../../../shared/restore/live-state.ts';
import type { RestoreReport } from '../../../shared/restore/plan.ts';
import { InputError } from '../../../shared/runtime/errors.ts';
import { type ApprovalRecord, readRecords, type RestoreState } from '../../../shared/usecases/restore.ts';
import { commandDeps, printJson } from '../../support/context.ts';

export function registerStatus(restore: Command): void {
  restore
    .command('status')
    .description(
      'where a restore stands: each item, its recovery point, time taken, and what exists now (read live)',
    )
    .argument('<id>', 'request id')
    .option('--json', 'print as JSON')
    .action(async (id: string, f: { json?: boolean }, cmd: Command) => {
      const deps = commandDeps(cmd);
      const tz = deps.policy.timezone;
      const store = vaultRestoreStore(deps.clients, deps.policy);
      const state = await store.get<RestoreState>(id, 'state.json');
      if (!state)
        throw new InputError([
          `restore ${id}: not found in s3://${deps.policy.vault.bucket}/restores/; see kura restore list`,
        ]);
      const records = await readRecords(id, store);
      const report = await store.get<RestoreReport>(id, 'report.json');
      // What exists is read now from each account, not taken from the record.
      const live = await liveState(deps, report?.exists ?? [], awsLeftovers);
      const rows = state.plan.items.map((i) => {
        const r = records.find((x) => x.key === i.key);
        const mine = live.resources.filter((x) => (r?.restored?.resources ?? []).some((y) => y.id === x.id));
        return {
          item: `${i.class} ${i.source}`,
          status: r?.status ?? 'not started',
          stage: r?.stage ?? '',
          'recovery point': r?.recoveryPoint.id ?? i.recoveryPoint.id,
          attempts: r?.attempts ?? 0,
          took: r?.durationSeconds === undefined ? '' : `${r.durationSeconds}s`,
          endpoint: r?.restored?.endpoint ?? '',
          'exists now': mine.length
            ? `${mine.filter((x) => x.exists !== false).length} of ${mine.length}`
            : '-',
          error: r?.error ? `${r.error.name}: ${r.error.message}` : '',
        };
      });
      const existing = live.resources.filter((x) => x.exists !== false);
      if (f.json)
        return printJson({
          state: { ...state, request: undefined },
          items: records,
          report,
          live: live.resources,
        });
      process.stdout.write(
        `restore ${id}: ${state.status} (updated ${bothZones(state.updatedAt, tz)}); reason: ${state.plan.reason}\n${formatTable(rows)}\n`,
      );
      if (state.cleanup)
        process.stdout.write(
          `cleaned up ${bothZones(state.cleanup.at, tz)}: ${state.cleanup.removed} resource(s) removed, ${state.cleanup.remaining} remaining\n`,
        );
      if (live.resources.length)
        process.stdout.write(
          `\nresources now (read live): ${existing.length} of ${live.resources.length} exist\n${formatTable(
            live.resources.map((x) => ({
              resource: `${x.type} ${x.id}`,
              account: x.account,
              exists: existsText(x),
            })),
          )}\n`,
        );
      if (live.problem) process.stdout.write(`! ${live.problem}\n`);
      if (report) process.stdout.write(`report: ${store.location(id, 'report.md')}\n`);
      const approval = await store.get<ApprovalRecord>(id, 'approval.json');
      if (approval?.status === 'pending')
        process.stdout.write(
          `waiting for approval since ${bothZones(approval.requestedAt, tz)}: kura restore approve ${id}\n`,
        );
    });
}

export function registerList(restore: Command): void {
  restore
    .command('list')
    .description('orchestrated restores recorded in the vault')
    .option('--json', 'print as JSON')
    .action(async (f: { json?: boolean }, cmd: Command) => {
      const deps = commandDeps(cmd);
      const store = vaultRestoreStore(deps.clients, deps.policy);
      const rows: Record<string, unknown>[] = [];
      for (const id of await store.list()) {
        const s = await store.get<RestoreState>(id, 'state.json');
        if (!s) continue;
        rows.push({
          id,
          status: s.status,
          created: s.plan.createdAt,
          items: s.plan.items.map((i) => `${i.class} ${i.source}`).join(', '),
          reason: s.plan.reason,
        });
      }
      rows.sort((a, b) => String(b.created).localeCompare(String(a.created)));
      if (f.json) return printJson(rows);
      const tz = deps.policy.timezone;
      process.stdout.write(
        `${formatTable(rows.map((r) => ({ ...r, created: bothZones(String(r.created), tz) })))}\n`,
      );
    });
}
