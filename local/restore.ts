// Local runtime: runs the restore state machine in-process (same ASL file as
// on AWS). The approval task's Lambda-with-task-token integration is played
// locally: the approval request is recorded in the vault exactly as on AWS,
// then the run waits until `kura restore approve|reject <id>` records a
// decision there (no task token exists locally).
import { run as restoreTask } from '../functions/restore/handler.ts';
import type { Deps } from '../shared/aws/deps.ts';
import { vaultRestoreStore } from '../shared/aws/restore-store.ts';
import { InputError } from '../shared/runtime/errors.ts';
import type { ApprovalRecord } from '../shared/usecases/restore.ts';
import { asFunction, serviceInvokes } from './iam/principals.ts';
import { type LocalTask, type RunOutcome, runStateMachine, type StepEvent } from './state-machine-runner.ts';

export interface LocalRestoreOptions {
  deps: Deps;
  onEvent?: (e: StepEvent) => void;
  /** Called once the approval request is recorded (print the approve command). */
  onApprovalPending?: (requestId: string) => void;
  approvalPollMs?: number;
  approvalTimeoutMs?: number;
  taskOverrides?: Record<string, LocalTask>;
}

export function localApproval(opts: LocalRestoreOptions): LocalTask {
  return async (input, machineDeps) => {
    // lambda:invoke with a task token: the machine's role invokes the restore function, which runs as its own role.
    await serviceInvokes('state-machine', 'restore', 'restore', machineDeps.policy);
    const deps = await asFunction('restore', machineDeps);
    const p = input as { Payload: { requestId: string } };
    await restoreTask(p.Payload, deps);
    const requestId = p.Payload.requestId;
    opts.onApprovalPending?.(requestId);
    const store = vaultRestoreStore(deps.clients, deps.policy);
    const deadline = Date.now() + (opts.approvalTimeoutMs ?? 24 * 3600_000);
    for (;;) {
      const a = await store.get<ApprovalRecord>(requestId, 'approval.json');
      if (a?.status === 'approved') return { approvedBy: a.by, at: a.decidedAt };
      if (a?.status === 'rejected') {
        throw Object.assign(
          new InputError([
            `restore ${requestId} was rejected by ${a.by ?? 'someone'}${a.note ? `: ${a.note}` : ''}`,
          ]),
          { name: 'ApprovalRejected' },
        );
      }
      if (Date.now() > deadline)
        throw Object.assign(new Error(`restore ${requestId}: no approval in time`), {
          name: 'States.Timeout',
        });
      await new Promise((r) => setTimeout(r, opts.approvalPollMs ?? 1000));
    }
  };
}

export function runRestoreLocally(request: unknown, opts: LocalRestoreOptions): Promise<RunOutcome> {
  return runStateMachine(
    'restore',
    { request },
    {
      deps: opts.deps,
      onEvent: opts.onEvent,
      taskOverrides: opts.taskOverrides,
      integrations: { 'arn:aws:states:::lambda:invoke': localApproval(opts) },
    },
  );
}
