// Restore (domain): the report built from the plan and the items' records:
// what was restored, how long it took, what exists and how to remove it. Pure.
import type { ItemAccess } from '../access.ts';
import type { CreatedResource, RestoreClass } from '../types.ts';
import type { ItemRecord, ItemStatus, Phase, RestorePlan } from './items.ts';

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
  access?: ItemAccess;
  /** Said when a resumed restore found this item's resources gone and restored it again. */
  rechecked?: string[];
}

export interface RestoreReport {
  requestId: string;
  reason: string;
  ticket?: string;
  status: 'SUCCEEDED' | 'FAILED' | 'RUNNING';
  timezone?: string;
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
      ...(r?.access ? { access: r.access } : {}),
      ...(r?.rechecked?.length ? { rechecked: r.rechecked.map((x) => x.note) } : {}),
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
  for (const i of items)
    for (const n of i.rechecked ?? []) notes.push(`${i.class} ${i.source}: resources ${n}.`);
  return {
    requestId: plan.requestId,
    reason: plan.reason,
    ...(plan.ticket ? { ticket: plan.ticket } : {}),
    status: finished,
    ...(plan.timezone ? { timezone: plan.timezone } : {}),
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
