// `kura restore start`: the restore state machine run on AWS, each step shown
// as it happens, and the outcome printed.
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { formatTable } from '../../../local/demo/format.ts';
import type { Deps } from '../../../shared/aws/deps.ts';
import { vaultRestoreStore } from '../../../shared/aws/restore-store.ts';
import { accessLines, cleanupLines, type RestoreReport } from '../../../shared/restore/plan.ts';
import { InputError } from '../../../shared/runtime/errors.ts';
import { printJson } from '../../support/context.ts';
import { reportRows } from './rows.ts';

export async function stateMachineArn(deps: Deps, stage: string): Promise<string> {
  const name = `kura-restore-${stage}`;
  const sfn = deps.clients.get(SFNClient);
  let token: string | undefined;
  do {
    const r = await sfn.send(new ListStateMachinesCommand({ nextToken: token }));
    const hit = r.stateMachines?.find((m) => m.name === name);
    if (hit?.stateMachineArn) return hit.stateMachineArn;
    token = r.nextToken;
  } while (token);
  throw new InputError([
    `state machine ${name} is not deployed in ${deps.clients.region}; deploy kura (sls deploy --stage ${stage}) or use --local`,
  ]);
}

export async function runOnAws(
  deps: Deps,
  request: unknown,
  requestId: string,
  arn: string,
): Promise<{ status: string; output?: unknown; cause?: string }> {
  const sfn = deps.clients.get(SFNClient);
  // A new execution name per attempt: re-running a request resumes from the vault records.
  const name = `${requestId}-${Date.now().toString(36)}`;
  const started = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify({ request }) }),
  );
  const exec = started.executionArn as string;
  process.stderr.write(`started ${exec}\n`);
  const seen = new Set<number>();
  for (;;) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn: exec }));
    let token: string | undefined;
    do {
      const h = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn: exec, nextToken: token, maxResults: 200 }),
      );
      for (const e of h.events ?? []) progressLine(e, seen);
      token = h.nextToken;
    } while (token);
    if (d.status !== 'RUNNING')
      return {
        status: d.status ?? 'UNKNOWN',
        output: d.output ? JSON.parse(d.output) : undefined,
        cause: d.cause,
      };
    await new Promise((r) => setTimeout(r, 5000));
  }
}

function progressLine(e: HistoryEvent, seen: Set<number>): void {
  if (e.id === undefined || seen.has(e.id)) return;
  seen.add(e.id);
  const t = e.timestamp?.toISOString().slice(11, 19) ?? '';
  if (e.type?.endsWith('StateEntered'))
    process.stderr.write(`  ${t} → ${e.stateEnteredEventDetails?.name}\n`);
  if (e.type === 'TaskFailed' || e.type === 'ExecutionFailed') {
    const f = e.taskFailedEventDetails ?? e.executionFailedEventDetails;
    process.stderr.write(`  ${t} ✗ ${f?.error ?? ''} ${f?.cause ?? ''}\n`);
  }
}

export async function printOutcome(
  deps: Deps,
  requestId: string,
  status: string,
  cause: string | undefined,
  json: boolean | undefined,
): Promise<void> {
  const store = vaultRestoreStore(deps.clients, deps.policy);
  const report = await store.get<RestoreReport>(requestId, 'report.json');
  if (json) {
    printJson({ requestId, status, ...(cause ? { cause } : {}), report });
  } else {
    process.stdout.write(`\nrestore ${requestId}: ${status}\n`);
    if (report) {
      process.stdout.write(`${formatTable(reportRows(report, deps.policy.timezone))}\n`);
      const access = accessLines(report);
      if (access.length)
        process.stdout.write(
          `\nHow to reach what was restored:\n${access.map((l) => `  ${l}`).join('\n')}\n`,
        );
      const cleanup = cleanupLines(report);
      if (cleanup.length)
        process.stdout.write(
          `\nTo clean up when no longer needed:\n${cleanup.map((c) => `  ${c}`).join('\n')}\n`,
        );
      for (const n of report.notes) process.stdout.write(`\n${n}`);
      process.stdout.write(`\nreport: ${store.location(requestId, 'report.md')} (and report.json)\n`);
    } else if (cause) {
      process.stdout.write(`${cause}\n`);
    }
  }
  if (status !== 'SUCCEEDED') process.exitCode = 1;
}
