// Restore (domain): the plan of an orchestrated restore (its items in phases,
// the RTO per class) and the record each item leaves. Pure.
import { bothZones } from '../../policy/calendar.ts';
import type { Policy } from '../../policy/schema.ts';
import type { ItemAccess } from '../access.ts';
import type { RequestedItem, RestoreRequest, Selection } from '../request.ts';
import type { CreatedResource, RecoveryPointRef, RestoreClass, RestoredItem } from '../types.ts';

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
  /**
   * A yearly rehearsal (request `rehearsal: true`): after the restore the machine
   * checks, cleans up and chains a rehearsal report. What the plan saw at the run:
   * each source database's LatestRestorableTime, and the classes with nothing to restore.
   */
  rehearsal?: {
    latestRestorable: Record<string, string>;
    nothing: { class: RestoreClass; reason: string }[];
  };
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
