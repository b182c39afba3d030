// Restore (domain): the plan of an orchestrated restore, the record each item
// leaves, and the report built from them. Pure: no AWS imports.
import type { Policy } from '../policy/schema.ts';
import type { RequestedItem, RestoreRequest, Selection } from './request.ts';
import type { CreatedResource, RecoveryPointRef, RestoreClass, RestoredItem } from './types.ts';

/** Dependency order: the database first, then servers, then content and logs side by side. */
export type Phase = 'database' | 'servers' | 'content' | 'logs';

export const PHASE_OF: Record<RestoreClass, Phase> = {
  database: 'database',
  image: 'servers',
  content: 'content',
  logs: 'logs',
};

export interface PlanItem extends RequestedItem {
  phase: Phase;
  recoveryPoint: RecoveryPointRef;
  /** Database point-in-time restore: the time to restore to (a temporary instance in the source account). */
  pitr?: { time: string };
  rtoMinutes: number;
}

export interface RestorePlan {
  requestId: string;
  reason: string;
  ticket?: string;
  at?: string;
  approval: boolean;
  createdAt: string;
  source: { region: string };
  target: { accountId: string; region: string };
  items: PlanItem[];
  phases: Record<Phase, string[]>;
  warnings: string[];
}

export type ItemStatus = 'running' | 'waiting' | 'done' | 'failed';

export interface ItemRecord {
  key: string;
  class: RestoreClass;
  source: string;
  status: ItemStatus;
  attempts: number;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  recoveryPoint: RecoveryPointRef;
  restored?: RestoredItem;
  /** Temporary resources (PITR) in the source account, and whether they are gone. */
  temporary?: (CreatedResource & { removed?: boolean })[];
  /** Where a resumable item stands (PITR: temporary-instance, snapshot, restore). */
  stage?: string;
  /** Logs asked back from an archive storage class: when, and when the data is ready by. */
  archive?: { requestedAt: string; readyBy: string };
  error?: { name: string; message: string };
  /** Resources a failed step reported as created before it failed. */
  leftovers?: CreatedResource[];
}

export function rtoMinutes(cls: RestoreClass, policy: Policy): number {
  const rto = policy.validation?.rto ?? { dataMinutes: 30, systemMinutes: 180, logsMinutes: 30 };
  if (cls === 'image') return rto.systemMinutes;
  if (cls === 'logs') return rto.logsMinutes;
  return rto.dataMinutes;
}

export function describeSelection(s: Selection): string {
  switch (s.kind) {
    case 'latest':
      return 'latest';
    case 'id':
      return `id ${s.id}`;
    case 'before':
      return `closest at or before ${s.time}`;
    case 'pointInTime':
      return `point in time ${s.time}`;
    case 'generationDate':
      return `generation of ${s.date}`;
  }
}

export function buildPlan(
  request: RestoreRequest,
  resolved: { item: RequestedItem; recoveryPoint: RecoveryPointRef }[],
  policy: Policy,
  now: Date,
  warnings: string[] = [],
): RestorePlan {
  const items: PlanItem[] = resolved.map(({ item, recoveryPoint }) => ({
    ...item,
    phase: PHASE_OF[item.class],
    recoveryPoint,
    ...(item.selection.kind === 'pointInTime' ? { pitr: { time: item.selection.time } } : {}),
    rtoMinutes: rtoMinutes(item.class, policy),
  }));
  const phases: Record<Phase, string[]> = { database: [], servers: [], content: [], logs: [] };
  for (const i of items) phases[i.phase].push(i.key);
  return {
    requestId: request.id,
    reason: request.reason,
    ...(request.ticket ? { ticket: request.ticket } : {}),
    ...(request.at ? { at: new Date(request.at).toISOString() } : {}),
    approval: request.approval,
    createdAt: now.toISOString(),
    source: { region: policy.region },
    target: { accountId: request.target.accountId, region: request.target.region },
    items,
    phases,
    warnings,
  };
}

// ---------------------------------------------------------------- report

export interface ReportItem {
  key: string;
  class: RestoreClass;
  source: string;
  phase: Phase;
  status: ItemStatus | 'not started';
  recoveryPoint: { id: string; time: string };
  endpoint?: string;
  resources: CreatedResource[];
  durationSeconds?: number;
  rtoMinutes: number;
  withinRto?: boolean;
  /** Data restored from an archive storage class: asked for at, ready by (ISO). */
  archive?: { requestedAt: string; readyBy: string };
  error?: string;
}

export interface RestoreReport {
  requestId: string;
  reason: string;
  ticket?: string;
  status: 'SUCCEEDED' | 'FAILED' | 'RUNNING';
  at?: string;
  target: { accountId: string; region: string };
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  phases: {
    phase: Phase;
    items: number;
    durationSeconds?: number;
    rtoMinutes: number;
    withinRto?: boolean;
  }[];
  items: ReportItem[];
  /** Everything that exists now because of this request, wherever it is. */
  exists: CreatedResource[];
  cleanup: string[];
  failure?: { error: string; cause: string };
  notes: string[];
}

const seconds = (a: string, b: string) => Math.max(0, Math.round((Date.parse(b) - Date.parse(a)) / 100) / 10);

export function buildReport(
  plan: RestorePlan,
  records: ItemRecord[],
  now: Date,
  failure?: { error: string; cause: string },
): RestoreReport {
  const byKey = new Map(records.map((r) => [r.key, r]));
  const items: ReportItem[] = plan.items.map((p) => {
    const r = byKey.get(p.key);
    const rp = r?.restored?.recoveryPoint ?? r?.recoveryPoint ?? p.recoveryPoint;
    const resources = [...(r?.restored?.resources ?? []), ...(r?.leftovers ?? [])];
    const duration =
      r?.restored?.durationSeconds !== undefined && r.durationSeconds === undefined
        ? r.restored.durationSeconds
        : r?.durationSeconds;
    return {
      key: p.key,
      class: p.class,
      source: p.source,
      phase: p.phase,
      status: r?.status ?? 'not started',
      recoveryPoint: { id: rp.id, time: rp.time },
      ...(r?.restored?.endpoint ? { endpoint: r.restored.endpoint } : {}),
      resources,
      ...(duration !== undefined
        ? { durationSeconds: duration, withinRto: duration <= p.rtoMinutes * 60 }
        : {}),
      rtoMinutes: p.rtoMinutes,
      ...(r?.archive ? { archive: r.archive } : {}),
      ...(r?.error ? { error: `${r.error.name}: ${r.error.message}` } : {}),
    };
  });
  const phases = (['database', 'servers', 'content', 'logs'] as Phase[])
    .filter((ph) => plan.phases[ph].length > 0)
    .map((phase) => {
      const recs = plan.phases[phase]
        .map((k) => byKey.get(k))
        .filter((r): r is ItemRecord => Boolean(r?.finishedAt));
      const rto = Math.max(...plan.items.filter((i) => i.phase === phase).map((i) => i.rtoMinutes));
      if (recs.length !== plan.phases[phase].length || recs.length === 0)
        return { phase, items: plan.phases[phase].length, rtoMinutes: rto };
      const start = recs.map((r) => r.startedAt).sort()[0] as string;
      const end = recs
        .map((r) => r.finishedAt as string)
        .sort()
        .at(-1) as string;
      const d = seconds(start, end);
      return { phase, items: recs.length, durationSeconds: d, rtoMinutes: rto, withinRto: d <= rto * 60 };
    });
  const temporary = records.flatMap((r) =>
    (r.temporary ?? []).filter((t) => !t.removed).map(({ removed: _, ...t }) => t),
  );
  const exists = [...items.flatMap((i) => i.resources), ...temporary];
  const starts = records.map((r) => r.startedAt).sort();
  const startedAt = starts[0] ?? plan.createdAt;
  const finished = failure ? 'FAILED' : items.every((i) => i.status === 'done') ? 'SUCCEEDED' : 'RUNNING';
  const notes: string[] = [];
  const notStarted = items.filter((i) => i.status === 'not started').map((i) => i.key);
  if (failure) {
    notes.push(`The restore stopped: ${failure.error}: ${failure.cause}`);
    if (notStarted.length) notes.push(`Not started: ${notStarted.join(', ')}.`);
    notes.push(
      `Re-run the same request (kura restore start --request … or --id ${plan.requestId}) to resume: finished items are skipped.`,
    );
  }
  if (temporary.length)
    notes.push(
      'Temporary point-in-time resources remain in the source account (listed under exists); remove them when no longer needed.',
    );
  for (const i of items.filter((x) => x.archive)) {
    const a = i.archive as { requestedAt: string; readyBy: string };
    notes.push(
      i.status === 'done'
        ? `${i.key}: part of its data was in an archive storage class; S3 was asked to restore it at ${a.requestedAt} (ready by about ${a.readyBy}), then it was restored. The logs RTO cannot hold for archived data.`
        : `${i.key}: part of its data is in an archive storage class; S3 was asked to restore it at ${a.requestedAt}: the data will be ready by about ${a.readyBy}, and the restore continues then.`,
    );
  }
  return {
    requestId: plan.requestId,
    reason: plan.reason,
    ...(plan.ticket ? { ticket: plan.ticket } : {}),
    status: finished,
    ...(plan.at ? { at: plan.at } : {}),
    target: plan.target,
    startedAt,
    finishedAt: now.toISOString(),
    durationSeconds: seconds(startedAt, now.toISOString()),
    phases,
    items,
    exists,
    cleanup: exists.map((r) => r.cleanup),
    ...(failure ? { failure } : {}),
    notes,
  };
}

const fmtDuration = (s?: number) =>
  s === undefined ? '-' : s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;

export function reportMarkdown(r: RestoreReport): string {
  const lines: string[] = [];
  lines.push(`# Restore ${r.requestId}: ${r.status}`, '');
  lines.push(`- Reason: ${r.reason}${r.ticket ? ` (ticket ${r.ticket})` : ''}`);
  lines.push(`- Into: account ${r.target.accountId}, region ${r.target.region}`);
  if (r.at)
    lines.push(`- Consistent point: every class from the recovery point closest at or before ${r.at}`);
  lines.push(`- From ${r.startedAt} to ${r.finishedAt} (${fmtDuration(r.durationSeconds)})`, '');
  if (r.failure) lines.push(`**Failed:** ${r.failure.error}: ${r.failure.cause}`, '');
  lines.push('## What was restored', '');
  lines.push('| item | status | recovery point | taken at | endpoint / where | took | RTO |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const i of r.items) {
    const where = i.endpoint ?? (i.resources.map((x) => `${x.type} ${x.id}`).join('<br>') || '-');
    const rto = `${i.rtoMinutes} min${i.withinRto === undefined ? '' : i.withinRto ? ' ✓' : ' ✗ exceeded'}`;
    lines.push(
      `| ${i.class} ${i.source} | ${i.status}${i.error ? `: ${i.error}` : ''} | ${i.recoveryPoint.id} | ${i.recoveryPoint.time} | ${where} | ${fmtDuration(i.durationSeconds)} | ${rto} |`,
    );
  }
  lines.push('', '## Time per part against the RTO', '');
  lines.push('| part | items | took | RTO | within |', '|---|---|---|---|---|');
  for (const p of r.phases) {
    lines.push(
      `| ${p.phase} | ${p.items} | ${fmtDuration(p.durationSeconds)} | ${p.rtoMinutes} min | ${p.withinRto === undefined ? '-' : p.withinRto ? 'yes' : 'NO'} |`,
    );
  }
  lines.push('', '## What exists now', '');
  if (r.exists.length === 0) lines.push('Nothing was created.');
  for (const x of r.exists) lines.push(`- ${x.type} \`${x.id}\` in account ${x.account}, ${x.region}`);
  lines.push('', '## Clean up (when the restored copies are no longer needed)', '');
  if (r.cleanup.length === 0) lines.push('Nothing to clean up.');
  else lines.push('```sh', ...r.cleanup, '```');
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}
