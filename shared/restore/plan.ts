// Restore (domain): the plan of an orchestrated restore, the record each item
// leaves, and the report built from them. Pure: no AWS imports.
import { bothZones } from '../policy/calendar.ts';
import type { Policy } from '../policy/schema.ts';
import type { ItemAccess } from './access.ts';
import { ISOLATED_PROFILE } from './operator-names.ts';
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
  /** The policy's zone, for times a person reads. */
  timezone?: string;
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
  /** How to reach what was restored (route, user, where the secret is). */
  access?: ItemAccess;
  /** Re-checks of a finished item on resume that found its resources gone. */
  rechecked?: { at: string; gone: string[]; note: string }[];
}

export function rtoMinutes(cls: RestoreClass, policy: Policy): number {
  const rto = policy.validation?.rto ?? { dataMinutes: 30, systemMinutes: 180, logsMinutes: 30 };
  if (cls === 'image') return rto.systemMinutes;
  if (cls === 'logs') return rto.logsMinutes;
  return rto.dataMinutes;
}

export function describeSelection(s: Selection, timeZone = 'UTC'): string {
  switch (s.kind) {
    case 'latest':
      return 'latest';
    case 'id':
      return `id ${s.id}`;
    case 'before':
      return `closest at or before ${bothZones(s.time, timeZone)}`;
    case 'pointInTime':
      return `point in time ${bothZones(s.time, timeZone)}`;
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
    timezone: policy.timezone,
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

const fmtDuration = (s?: number) =>
  s === undefined ? '-' : s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;

/** The clean-up commands, grouped by the account they must run in (kura's own command first). */
export function cleanupLines(r: RestoreReport): string[] {
  if (r.exists.length === 0) return [];
  const lines = [
    `npx kura restore cleanup ${r.requestId} --isolated-profile ${ISOLATED_PROFILE}    # removes all of it, in every account: the isolated one with that profile (docs/runbook.md), the source with your default credentials`,
    '',
    'or by hand, account by account:',
  ];
  const accounts = [...new Set(r.exists.map((x) => x.account))];
  for (const a of accounts) {
    const where =
      a === r.target.accountId
        ? `in the isolated account ${a} (credentials of that account, e.g. --profile ${ISOLATED_PROFILE})`
        : `in account ${a} (the source account: kura's own credentials)`;
    lines.push(`  # ${where}`);
    for (const x of r.exists.filter((e) => e.account === a)) lines.push(`  ${x.cleanup}`);
  }
  return lines;
}

/** How to reach what was restored, one block per item: route, user, where the secret is, how to export. */
export function accessLines(r: RestoreReport): string[] {
  const out: string[] = [];
  for (const i of r.items) {
    const a = i.access;
    if (!a) continue;
    out.push(`${a.item}:`);
    const s3 = a.endpoint?.startsWith('s3://');
    if (a.endpoint)
      out.push(
        `  ${s3 ? 'where' : 'endpoint'}: ${a.endpoint}${a.port ? ` port ${a.port}` : ''} (${s3 ? 'in the isolated account' : 'inside the isolated VPC'})`,
      );
    if (a.user) out.push(`  user: ${a.user}`);
    if (a.secret)
      out.push(
        `  password: in Secrets Manager of account ${a.secret.account} (${a.secret.region}), ${a.secret.arn}; a fresh one for this copy, never printed, not production's`,
      );
    if (a.route.kind === 'none') out.push(`  route in: none yet: ${a.route.why}`);
    else {
      out.push(
        `  route in: ${a.route.kind === 'session-manager' ? `Session Manager via ${a.route.via}` : 'the AWS API'}`,
      );
      for (const c of a.route.commands) out.push(`    ${c}`);
      if (a.route.note) out.push(`    (${a.route.note})`);
    }
    if (a.export) out.push(`  bring data back: ${a.export}`);
  }
  return out;
}

export function reportMarkdown(r: RestoreReport): string {
  const tz = r.timezone ?? 'UTC';
  const lines: string[] = [];
  lines.push(`# Restore ${r.requestId}: ${r.status}`, '');
  lines.push(`- Reason: ${r.reason}${r.ticket ? ` (ticket ${r.ticket})` : ''}`);
  lines.push(`- Into: account ${r.target.accountId}, region ${r.target.region}`);
  if (r.at)
    lines.push(
      `- Consistent point: every class from the recovery point closest at or before ${bothZones(r.at, tz)}`,
    );
  lines.push(
    `- From ${bothZones(r.startedAt, tz)} to ${bothZones(r.finishedAt, tz)} (${fmtDuration(r.durationSeconds)})`,
    '',
  );
  if (r.failure) lines.push(`**Failed:** ${r.failure.error}: ${r.failure.cause}`, '');
  lines.push('## What was restored', '');
  lines.push('| item | status | recovery point | taken at | endpoint / where | took | RTO |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const i of r.items) {
    const where = i.endpoint ?? (i.resources.map((x) => `${x.type} ${x.id}`).join('<br>') || '-');
    const rto = `${i.rtoMinutes} min${i.withinRto === undefined ? '' : i.withinRto ? ' ✓' : ' ✗ exceeded'}`;
    lines.push(
      `| ${i.class} ${i.source} | ${i.status}${i.error ? `: ${i.error}` : ''} | ${i.recoveryPoint.id} | ${bothZones(i.recoveryPoint.time, tz)} | ${where} | ${fmtDuration(i.durationSeconds)} | ${rto} |`,
    );
  }
  lines.push('', '## Time per part against the RTO', '');
  lines.push('| part | items | took | RTO | within |', '|---|---|---|---|---|');
  for (const p of r.phases) {
    lines.push(
      `| ${p.phase} | ${p.items} | ${fmtDuration(p.durationSeconds)} | ${p.rtoMinutes} min | ${p.withinRto === undefined ? '-' : p.withinRto ? 'yes' : 'NO'} |`,
    );
  }
  const access = accessLines(r);
  if (access.length) lines.push('', '## How to reach what was restored', '', '```', ...access, '```');
  lines.push('', '## What exists now', '');
  if (r.exists.length === 0) lines.push('Nothing was created.');
  for (const x of r.exists) lines.push(`- ${x.type} \`${x.id}\` in account ${x.account}, ${x.region}`);
  lines.push('', '## Clean up (when the restored copies are no longer needed)', '');
  const cleanup = cleanupLines(r);
  if (cleanup.length === 0) lines.push('Nothing to clean up.');
  else lines.push('```sh', ...cleanup, '```');
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}
