// Use case (orchestrated restore): the state machine's "approval" task, and
// its "report" task: the account of what exists, as JSON and Markdown in the vault.
import { buildReport, type RestoreReport, reportMarkdown } from '../../restore/plan.ts';
import type { RestorePlanPorts } from './ports.ts';
import { loadState, readRecords } from './state.ts';

/** State machine task "approval": records the task token so `kura restore approve` can answer it. */
export async function requestApproval(
  input: { requestId: string; context?: { Task?: { Token?: string } } },
  now: Date,
  ports: Pick<RestorePlanPorts, 'store'>,
): Promise<{ requestId: string; pending: true; command: string }> {
  await loadState(input.requestId, ports.store);
  await ports.store.put(input.requestId, 'approval.json', {
    status: 'pending',
    requestedAt: now.toISOString(),
    token: input.context?.Task?.Token,
  });
  return { requestId: input.requestId, pending: true, command: `kura restore approve ${input.requestId}` };
}

/** State machine task "report": the account of what exists, as JSON and Markdown in the vault. */
export async function writeReport(
  input: { requestId: string; failure?: { Error?: string; Cause?: string } },
  now: Date,
  ports: Pick<RestorePlanPorts, 'store'>,
): Promise<{
  requestId: string;
  status: RestoreReport['status'];
  report: { json: string; markdown: string };
  summary: ReturnType<typeof summarize>;
}> {
  const state = await loadState(input.requestId, ports.store);
  const records = await readRecords(input.requestId, ports.store);
  const failure = input.failure
    ? { error: input.failure.Error ?? 'Error', cause: causeText(input.failure.Cause) }
    : undefined;
  const report = buildReport(state.plan, records, now, failure);
  const json = await ports.store.put(input.requestId, 'report.json', report);
  const markdown = await ports.store.put(
    input.requestId,
    'report.md',
    reportMarkdown(report),
    'text/markdown; charset=utf-8',
  );
  state.status = report.status === 'RUNNING' ? 'FAILED' : report.status;
  state.updatedAt = now.toISOString();
  state.report = { json, markdown };
  await ports.store.put(input.requestId, 'state.json', state);
  return {
    requestId: input.requestId,
    status: state.status,
    report: { json, markdown },
    summary: summarize(report),
  };
}

/** Step Functions gives a Lambda error's Cause as JSON text ({errorType, errorMessage, …}). */
function causeText(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const c = JSON.parse(cause) as { errorMessage?: string; errorType?: string };
    return c.errorMessage ?? cause;
  } catch {
    return cause;
  }
}

export function summarize(r: RestoreReport) {
  return {
    status: r.status,
    items: r.items.map((i) => ({
      item: `${i.class} ${i.source}`,
      status: i.status,
      recoveryPoint: i.recoveryPoint.id,
      time: i.recoveryPoint.time,
      endpoint: i.endpoint,
      seconds: i.durationSeconds,
      rtoMinutes: i.rtoMinutes,
    })),
    exists: r.exists.length,
    cleanup: r.cleanup,
  };
}
