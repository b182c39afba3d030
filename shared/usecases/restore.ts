// Use case: the orchestrated restore. Each function is one task of the
// restore state machine (plan, approval, item, report) and is safe to call
// again: progress lives in the vault under restores/<request-id>/, so a
// re-run of the same request resumes and never duplicates.
import { tolerate } from '../aws/errors.ts';
import { S3FirstPointLedger } from '../aws/first-points.ts';
import type { IsolatedAccessPort } from '../aws/isolated-access.ts';
import { KmsAdapter } from '../aws/kms.ts';
import { backedUpDatabases } from '../aws/rds-sources.ts';
import { bothZones } from '../policy/calendar.ts';
import type { FirstPoint } from '../domain/first-points.ts';
import { awsIsolatedAccess } from '../aws/restore-ports.ts';
import { type RestoreStorePort, S3RestoreStore } from '../aws/restore-store.ts';
import { vaultLock } from '../aws/vault-lock.ts';
import { pitrWindow, RdsPitrAdapter, type RdsPitrPort } from '../aws/rds-pitr.ts';
import { advancePitr, cleanupPitr } from '../restore/database-pitr.ts';
import { connectIsolated, prepareIsolatedTarget } from '../restore/isolated-network.ts';
import {
  buildPlan,
  buildReport,
  type ItemRecord,
  type PlanItem,
  type RestorePlan,
  type RestoreReport,
  reportMarkdown,
} from '../restore/plan.ts';
import {
  awsPreflightPorts,
  PreflightError,
  type PreflightPorts,
  type PreflightResult,
  preflight,
} from '../restore/preflight.ts';
import {
  canonicalJson,
  parseRestoreRequest,
  type RequestedItem,
  type RestoreRequest,
} from '../restore/request.ts';
import { accessFor } from '../restore/access.ts';
import { stillStands } from '../restore/recheck.ts';
import { farFromPointWarning, nearestPoints, offsetWarning } from '../restore/requested-times.ts';
import { restoreStep } from '../restore/run-steps.ts';
import type {
  CreatedResource,
  IsolatedTarget,
  RecoveryPointRef,
  RestoreClass,
  RestoreStep,
} from '../restore/types.ts';
import { SealError } from '../domain/seals.ts';
import { InputError, NotReadyError } from '../runtime/errors.ts';
import type { Deps } from '../aws/deps.ts';
import { errorInfo } from '../runtime/result.ts';

export interface RestoreState {
  requestId: string;
  request: unknown;
  plan: RestorePlan;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CLEANED';
  updatedAt: string;
  runs: { startedAt: string; execution?: string }[];
  report?: { json: string; markdown: string };
  /** Set by `kura restore cleanup`: when, and what it removed (cleanup.json holds the detail). */
  cleanup?: { at: string; removed: number; remaining: number };
}

export interface RestorePorts {
  store: RestoreStorePort;
  step(cls: RestoreClass): Promise<RestoreStep>;
  preflight: PreflightPorts;
  /** The point-in-time path's calls in the source account. */
  pitr: RdsPitrPort;
  /** Read-only connection to the target (pre-flight). */
  connect(deps: Deps): Promise<IsolatedTarget>;
  /** The target with its isolated network and key made ready (creates them on first use). */
  prepareTarget(deps: Deps): Promise<IsolatedTarget & { kmsKeyArn?: string }>;
  /** The on-call route into the target (Session Manager endpoints, jump host, managed password). */
  access(target: IsolatedTarget): IsolatedAccessPort;
}

export function awsRestorePorts(deps: Deps): RestorePorts {
  return {
    store: new S3RestoreStore(deps.clients, deps.policy.vault.bucket, vaultLock(deps.policy)),
    step: restoreStep,
    preflight: awsPreflightPorts(deps.clients, new KmsAdapter(deps.clients), (i) =>
      pitrWindow(deps.clients, i),
    ),
    pitr: new RdsPitrAdapter(deps.clients),
    connect: connectIsolated,
    prepareTarget: prepareIsolatedTarget,
    access: (target) => awsIsolatedAccess(target.clients, target.region),
  };
}

/**
 * Sources of a class that have recovery points (to name when a requested one
 * has none): for databases also those that are gone but whose snapshots
 * remain, known from the vault's first-point records.
 */
async function sourcesWithPoints(step: RestoreStep, deps: Deps): Promise<string> {
  const all = await step.list(deps);
  const names = new Set(all.map((p) => p.source));
  if (step.class === 'database') {
    // No vault yet means no records, nothing more; any other refusal is named by the caller's error.
    const ledger = new S3FirstPointLedger(deps.clients, deps.policy);
    const records = await tolerate(['notFound'], () => ledger.readAll(), new Map<string, FirstPoint>());
    const recorded = [...records.values()].filter((f) => f.class === 'database').map((f) => f.source);
    for (const d of await backedUpDatabases(deps.clients, deps.policy, recorded))
      if (!d.exists) names.add(d.id);
  }
  return names.size ? [...names].sort().join(', ') : '(none)';
}

async function resolveItem(
  item: RequestedItem,
  deps: Deps,
  ports: RestorePorts,
): Promise<{ recoveryPoint?: RecoveryPointRef; problem?: string; warning?: string }> {
  const label = `${item.class} ${item.source}`;
  const tz = deps.policy.timezone;
  const step = await ports.step(item.class);
  if (item.selection.kind === 'pointInTime') {
    const time = item.selection.time;
    const w = await ports.preflight.pitrWindow(item.source);
    const snapshots = await step.list(deps, { source: item.source });
    const nearest = nearestPoints(snapshots, time);
    if (!w) {
      // The database is gone (or the name is wrong): its snapshots, or the databases that have backups.
      const latest = snapshots[0];
      return {
        problem: latest
          ? `${label}: the database no longer exists, so no point in time can be restored; its newest snapshot is ${latest.id}, taken ${bothZones(latest.time, tz)}: use "snapshot": "${latest.id}" or "latest"`
          : `${label}: no such database in the source account and no kura-managed snapshot of it; databases with backups: ${await sourcesWithPoints(step, deps)}`,
      };
    }
    const brief = (p?: RecoveryPointRef) => (p ? { id: p.id, time: p.time } : undefined);
    return {
      recoveryPoint: {
        class: 'database',
        source: item.source,
        id: `point-in-time ${time}`,
        time,
        region: deps.clients.region,
        details: {
          pointInTime: true,
          ...(w.encrypted && w.kmsKeyId ? { encrypted: true, kmsKeyId: w.kmsKeyId } : {}),
          nearest: { before: brief(nearest.before), after: brief(nearest.after) },
        },
      },
    };
  }
  const s = item.selection;
  const before = s.kind === 'before' ? new Date(s.time) : undefined;
  let points: RecoveryPointRef[];
  try {
    const { from, to } = item.options;
    points = await step.list(deps, {
      source: item.source,
      ...(before ? { before } : {}),
      // Logs: the points holding part of the requested days (loose days as well as bundles).
      ...(typeof from === 'string' && typeof to === 'string' ? { range: { from, to } } : {}),
    });
  } catch (err) {
    // A step that cannot list is one more blocker, reported with the others.
    return {
      problem: `${label}: cannot list recovery points: ${(err as Error).message.replace(/\s+/g, ' ')}`,
    };
  }
  let rp: RecoveryPointRef | undefined;
  if (s.kind === 'latest' || s.kind === 'before') rp = points[0];
  else if (s.kind === 'id') rp = points.find((p) => p.id === s.id);
  else if (s.kind === 'generationDate')
    rp = points.find((p) => p.id === s.date || p.id.includes(s.date) || p.time.startsWith(s.date));
  if (rp) {
    if (s.kind !== 'before' || item.class === 'logs') return { recoveryPoint: rp };
    const all = await step.list(deps, { source: item.source });
    const after = nearestPoints(all, s.time).after;
    return { recoveryPoint: rp, warning: farFromPointWarning(label, s.time, rp, after, tz) };
  }
  const what =
    s.kind === 'latest'
      ? 'no kura-managed recovery point'
      : s.kind === 'before'
        ? `no kura-managed recovery point at or before ${bothZones(s.time, tz)}`
        : s.kind === 'id'
          ? `recovery point ${s.id} not found among kura-managed ones`
          : `no generation of ${s.date}`;
  const known = points
    .slice(0, 3)
    .map((p) => `${p.id} (${bothZones(p.time, tz)})`)
    .join(', ');
  // Nothing at all for this source: most likely a typo; name the sources that have backups.
  const any = known ? [] : await step.list(deps, { source: item.source });
  const others =
    !known && any.length === 0
      ? `; ${item.class} sources with backups: ${await sourcesWithPoints(step, deps)}`
      : '';
  return { problem: `${label}: ${what}${known ? `; newest available: ${known}` : ''}${others}` };
}

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
  ports: RestorePorts,
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
  for (const item of request.items) {
    const r = await resolveItem(item, deps, ports);
    if (r.recoveryPoint) resolved.push({ item, recoveryPoint: r.recoveryPoint });
    if (r.problem) blockers.push(r.problem);
    if (r.warning) warnings.push(r.warning);
  }
  const plan = buildPlan(request, resolved, deps.policy, now, warnings);
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
}

/** State machine task "plan": plan (or find the recorded plan) and record it in the vault. */
export async function recordPlan(
  raw: unknown,
  deps: Deps,
  now: Date,
  ports: RestorePorts,
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
  };
}

export async function readRecords(requestId: string, store: RestoreStorePort): Promise<ItemRecord[]> {
  const names = await store.items(requestId);
  const out = await Promise.all(names.map((n) => store.get<ItemRecord>(requestId, `items/${n}`)));
  return out.filter((r): r is ItemRecord => Boolean(r));
}

async function loadState(requestId: string, store: RestoreStorePort): Promise<RestoreState> {
  const state = await store.get<RestoreState>(requestId, 'state.json');
  if (!state)
    throw new InputError([
      `restore ${requestId}: no recorded plan (restores/${requestId}/state.json); start it first`,
    ]);
  state.plan = await sealedPlan(requestId, store);
  return state;
}

/** The recorded plan, as sealed (the store checks plan.json against its seal); a state without one was not planned by kura. */
async function sealedPlan(requestId: string, store: RestoreStorePort): Promise<RestorePlan> {
  const plan = await store.get<RestorePlan>(requestId, 'plan.json');
  if (!plan)
    throw new SealError(
      `restores/${requestId}/plan.json`,
      'unsealed',
      'the restore has progress (state.json) but no sealed plan: not trusted',
    );
  return plan;
}

export interface ItemOutput {
  key: string;
  done: boolean;
  skipped?: boolean;
  stage?: string;
  waitSeconds?: number;
}

/** State machine task "item": restore one planned item, or advance it one stage. */
export async function restoreItem(
  input: { requestId: string; key: string },
  deps: Deps,
  now: () => Date,
  ports: RestorePorts,
): Promise<ItemOutput> {
  const state = await loadState(input.requestId, ports.store);
  const item: PlanItem | undefined = state.plan.items.find((i) => i.key === input.key);
  if (!item) throw new InputError([`restore ${input.requestId}: no item "${input.key}" in the plan`]);
  const name = `items/${item.key}.json`;
  const existing = await ports.store.get<ItemRecord>(input.requestId, name);
  // A finished item is skipped only while what it made still exists (a resumed restore re-checks).
  if (existing?.status === 'done' && (await stillStands(await ports.connect(deps), existing, now())))
    return { key: item.key, done: true, skipped: true };
  const t0 = now().toISOString();
  const record: ItemRecord = existing ?? {
    key: item.key,
    class: item.class,
    source: item.source,
    status: 'running',
    attempts: 0,
    startedAt: t0,
    updatedAt: t0,
    recoveryPoint: item.recoveryPoint,
  };
  record.attempts += 1;
  record.status = 'running';
  delete record.error;
  const save = async () => {
    record.updatedAt = now().toISOString();
    await ports.store.put(input.requestId, name, record);
  };
  await save();
  try {
    const step = await ports.step(item.class);
    let rp = item.recoveryPoint;
    if (item.pitr) {
      const progress = await advancePitr(ports.pitr, item, record, {
        requestId: input.requestId,
        reason: state.plan.reason,
        accountId: await deps.clients.accountId(),
        now: now(),
      });
      record.stage = progress.stage;
      if (!progress.ready) {
        record.status = 'waiting';
        await save();
        return { key: item.key, done: false, stage: progress.stage, waitSeconds: progress.waitSeconds };
      }
      rp = progress.recoveryPoint;
      record.recoveryPoint = rp;
      await save();
    }
    const target = await ports.prepareTarget(deps);
    const restored = await step.restore(deps, target, rp, {
      ...item.options,
      runId: input.requestId,
      purpose: 'restore',
      reason: state.plan.reason,
      ...(target.kmsKeyArn ? { kmsKeyArn: target.kmsKeyArn } : {}),
      // Stay well inside one Lambda invocation; the state machine waits and calls again.
      maxWaitSeconds: 300,
    });
    record.restored = restored;
    await save();
    // How to reach it: the route in, the user and where its (fresh) password is.
    const reach = await accessFor(target, restored, input.requestId, ports.access(target));
    record.access = reach.access;
    restored.resources.push(...reach.resources);
    if (item.pitr) await cleanupPitr(ports.pitr, record);
    const end = now();
    record.status = 'done';
    record.finishedAt = end.toISOString();
    record.durationSeconds = Math.round((end.getTime() - Date.parse(record.startedAt)) / 100) / 10;
    await save();
    return { key: item.key, done: true };
  } catch (err) {
    if (err instanceof NotReadyError || (err as Error).name === 'NotReadyError') {
      const hint = (err as NotReadyError).hint ?? {};
      record.status = 'waiting';
      record.stage = (err as Error).message;
      // Data asked back from an archive class: when it was asked for and when it is ready by.
      if (hint.readyBy && !record.archive)
        record.archive = { requestedAt: now().toISOString(), readyBy: hint.readyBy };
      await save();
      return { key: item.key, done: false, stage: record.stage, waitSeconds: hint.waitSeconds ?? 30 };
    }
    record.status = 'failed';
    record.error = errorInfo(err);
    const leftovers = (err as { resources?: CreatedResource[] }).resources;
    if (Array.isArray(leftovers)) record.leftovers = leftovers;
    await save();
    throw err;
  }
}

/** State machine task "approval": records the task token so `kura restore approve` can answer it. */
export async function requestApproval(
  input: { requestId: string; context?: { Task?: { Token?: string } } },
  now: Date,
  ports: RestorePorts,
): Promise<{ requestId: string; pending: true; command: string }> {
  await loadState(input.requestId, ports.store);
  await ports.store.put(input.requestId, 'approval.json', {
    status: 'pending',
    requestedAt: now.toISOString(),
    token: input.context?.Task?.Token,
  });
  return { requestId: input.requestId, pending: true, command: `kura restore approve ${input.requestId}` };
}

export interface ApprovalRecord {
  status: 'pending' | 'approved' | 'rejected';
  requestedAt: string;
  token?: string;
  decidedAt?: string;
  by?: string;
  note?: string;
}

/** State machine task "report": the account of what exists, as JSON and Markdown in the vault. */
export async function writeReport(
  input: { requestId: string; failure?: { Error?: string; Cause?: string } },
  now: Date,
  ports: RestorePorts,
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
