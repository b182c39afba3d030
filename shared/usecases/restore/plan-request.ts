// Use case (orchestrated restore): the request validated and planned, every
// recovery point resolved and the pre-flight run (read only); and the state
// machine's "plan" task, which records that plan in the vault.
import type { Deps } from '../../aws/deps.ts';
import { bothZones } from '../../policy/calendar.ts';
import { buildPlan, type RestorePlan } from '../../restore/plan.ts';
import { PreflightError, type PreflightResult, preflight } from '../../restore/preflight.ts';
import {
  canonicalJson,
  parseRestoreRequest,
  type RequestedItem,
  type RestoreRequest,
} from '../../restore/request.ts';
import { offsetWarning } from '../../restore/requested-times.ts';
import type { IsolatedTarget, RecoveryPointRef } from '../../restore/types.ts';
import { InputError } from '../../runtime/errors.ts';
import { rehearsalItems } from '../validation/rehearsal-items.ts';
import type { RestorePlanPorts } from './ports.ts';
import { resolveItem } from './resolve-item.ts';
import { type ApprovalRecord, type RestoreState, readRecords, sealedPlan } from './state.ts';

export interface PlannedRestore {
  request: RestoreRequest;
  plan: RestorePlan;
  preflight: PreflightResult;
  /** A plan recorded by an earlier run of the same request id. */
  resumed: boolean;
  state?: RestoreState;
}

/**
 * Validates, resolves every recovery point and runs the pre-flight checks.
 * Read-only: throws InputError/PreflightError listing every problem. A request
 * id seen before returns its recorded plan (resume), so "latest" keeps meaning
 * what it meant when the request was first made.
 */
export async function planRestore(
  raw: unknown,
  deps: Deps,
  now: Date,
  ports: RestorePlanPorts,
  opts: {
    /**
     * Why the isolated account is not looked into here (an operator without its
     * credentials): its checks are left to the state machine's Plan step, which
     * runs them before anything is created.
     */
    targetDeferred?: string;
  } = {},
): Promise<PlannedRestore> {
  const request = parseRestoreRequest(raw, deps.policy, now);
  const state = await ports.store.get<RestoreState>(request.id, 'state.json');
  if (state?.cleanup) {
    throw new InputError([
      `restore ${request.id} was cleaned up at ${bothZones(state.cleanup.at, deps.policy.timezone)} (kura restore cleanup): nothing it restored exists any more; to restore the same again, give it a new id (--id ${request.id.slice(0, 21)}-2)`,
    ]);
  }
  if (state) {
    state.plan = await sealedPlan(request.id, ports.store);
    const before = canonicalJson(
      parseRestoreRequest(state.request, deps.policy, new Date(state.plan.createdAt)).items,
    );
    if (before !== canonicalJson(request.items)) {
      throw new InputError([
        `request id ${request.id} was already used for a different request (${state.plan.reason}); choose another id`,
      ]);
    }
    return {
      request,
      plan: state.plan,
      preflight: { blockers: [], warnings: [], checks: ['resumed: plan recorded on the first run'] },
      resumed: true,
      state,
    };
  }
  const resolved: { item: RequestedItem; recoveryPoint: RecoveryPointRef }[] = [];
  const blockers: string[] = [];
  const tz = deps.policy.timezone;
  const warnings = [
    offsetWarning('at', request.at, tz),
    offsetWarning(
      'database.snapshot',
      /^\d{4}-/.test(request.database?.snapshot ?? '') ? request.database?.snapshot : undefined,
      tz,
    ),
  ].filter((w): w is string => Boolean(w));
  // A rehearsal names no items: every class the policy backs up, at its one time.
  const rehearsal =
    request.rehearsal && request.at ? await rehearsalItems(deps, ports, new Date(request.at)) : undefined;
  if (rehearsal) {
    request.items = rehearsal.items;
    if (rehearsal.items.length === 0)
      blockers.push(
        `rehearsal: no kura-managed recovery point of any class at or before ${bothZones(request.at ?? '', tz)}; nothing to rehearse`,
      );
  }
  for (const item of request.items) {
    const r = await resolveItem(item, deps, ports);
    if (r.recoveryPoint) resolved.push({ item, recoveryPoint: r.recoveryPoint });
    if (r.problem) blockers.push(r.problem);
    if (r.warning) warnings.push(r.warning);
  }
  const plan = buildPlan(request, resolved, deps.policy, now, warnings);
  if (rehearsal)
    plan.rehearsal = { latestRestorable: rehearsal.latestRestorable, nothing: rehearsal.nothing };
  let target: IsolatedTarget | undefined;
  let targetError: string | undefined;
  if (!opts.targetDeferred) {
    try {
      target = await ports.connect(deps);
    } catch (err) {
      targetError = (err as Error).message;
    }
  }
  const pre = await preflight(
    plan.items,
    {
      target: target?.clients,
      targetError,
      targetDeferred: opts.targetDeferred,
      targetAccountId: request.target.accountId,
      sourceRegion: deps.policy.region,
      timeZone: tz,
    },
    ports.preflight,
  );
  pre.blockers.unshift(...blockers);
  if (pre.blockers.length) throw new PreflightError(pre.blockers);
  plan.warnings.push(...pre.warnings);
  return { request, plan, preflight: pre, resumed: false };
}

export interface PlanOutput {
  requestId: string;
  approval: boolean;
  resumed: boolean;
  phases: RestorePlan['phases'];
  /** True when every item is already done (a re-run of a finished request). */
  alreadyDone: boolean;
  /** A yearly rehearsal: the machine checks, cleans up and chains its report after the restore. */
  rehearsal: boolean;
  /** The one point in time restored (the rehearsal's run time), when the request named one. */
  at?: string;
}

/** State machine task "plan": plan (or find the recorded plan) and record it in the vault. */
export async function recordPlan(
  raw: unknown,
  deps: Deps,
  now: Date,
  ports: RestorePlanPorts,
  execution?: string,
): Promise<PlanOutput> {
  const p = await planRestore(raw, deps, now, ports);
  const state: RestoreState = p.state ?? {
    requestId: p.plan.requestId,
    request: raw,
    plan: p.plan,
    status: 'RUNNING',
    updatedAt: now.toISOString(),
    runs: [],
  };
  state.status = 'RUNNING';
  state.updatedAt = now.toISOString();
  state.runs.push({ startedAt: now.toISOString(), ...(execution ? { execution } : {}) });
  // The plan is sealed on its own (plan.json) before any progress is recorded: the tasks
  // that follow run the sealed plan, not the copy in state.json.
  if (!p.state) await ports.store.put(p.plan.requestId, 'plan.json', p.plan);
  await ports.store.put(p.plan.requestId, 'state.json', state);
  const records = await readRecords(p.plan.requestId, ports.store);
  const approval = await ports.store.get<ApprovalRecord>(p.plan.requestId, 'approval.json');
  return {
    requestId: p.plan.requestId,
    approval: p.plan.approval && approval?.status !== 'approved',
    resumed: p.resumed,
    phases: p.plan.phases,
    alreadyDone: p.plan.items.every((i) => records.find((r) => r.key === i.key)?.status === 'done'),
    rehearsal: p.plan.rehearsal !== undefined,
    ...(p.plan.at ? { at: p.plan.at } : {}),
  };
}
