// `kura restore approve`: a second person answers a restore waiting for
// approval (its task token), recorded in the vault.
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { formatTable } from '../../../local/demo/format.ts';
import { vaultRestoreStore } from '../../../shared/aws/restore-store.ts';
import { InputError } from '../../../shared/runtime/errors.ts';
import type { ApprovalRecord, RestoreState } from '../../../shared/usecases/restore.ts';
import { commandDeps, confirmChange } from '../../support/context.ts';
import { planRows } from './rows.ts';

export function registerApprove(restore: Command): void {
  restore
    .command('approve')
    .description('approve (or --reject) a restore waiting for a second person')
    .argument('<id>', 'request id')
    .option('--reject', 'reject instead of approving')
    .option('--by <name>', 'who decides (recorded)', process.env.USER ?? 'unknown')
    .option('--note <text>', 'why')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      async (id: string, f: { reject?: boolean; by: string; note?: string; yes?: boolean }, cmd: Command) => {
        const deps = commandDeps(cmd);
        const store = vaultRestoreStore(deps.clients, deps.policy);
        const approval = await store.get<ApprovalRecord>(id, 'approval.json');
        if (approval?.status !== 'pending')
          throw new InputError([
            `restore ${id}: no approval pending (${approval?.status ?? 'never requested'})`,
          ]);
        const state = await store.get<RestoreState>(id, 'state.json');
        if (state) process.stderr.write(`${formatTable(planRows(state.plan, deps.policy.timezone))}\n`);
        await confirmChange(
          `${f.reject ? 'reject' : 'approve'} restore ${id} (${state?.plan.reason ?? ''})`,
          f.yes,
        );
        const decided: ApprovalRecord = {
          ...approval,
          status: f.reject ? 'rejected' : 'approved',
          decidedAt: new Date().toISOString(),
          by: f.by,
          ...(f.note ? { note: f.note } : {}),
        };
        if (approval.token) {
          const sfn = deps.clients.get(SFNClient);
          if (f.reject)
            await sfn.send(
              new SendTaskFailureCommand({
                taskToken: approval.token,
                error: 'ApprovalRejected',
                cause: `rejected by ${f.by}${f.note ? `: ${f.note}` : ''}`,
              }),
            );
          else
            await sfn.send(
              new SendTaskSuccessCommand({
                taskToken: approval.token,
                output: JSON.stringify({ approvedBy: f.by, at: decided.decidedAt }),
              }),
            );
        }
        await store.put(id, 'approval.json', { ...decided, token: undefined });
        process.stdout.write(`restore ${id}: ${decided.status} by ${f.by}\n`);
      },
    );
}
