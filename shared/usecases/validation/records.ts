// Use case (validation): the run's records and the ports the use case works
// through. States pass small pointers; the plan and every item's record live
// in the vault under <reportsPrefix>validation/<runId>/, each record rewritten
// by every state that touches it.
import type { Deps } from '../../aws/deps.ts';
import type { LeftoversPort } from '../../aws/isolated-leftovers.ts';
import type { SealedRecords } from '../../aws/seals.ts';
import type { VaultObjects } from '../../aws/vault-objects.ts';
import {
  type CheckResult,
  isRehearsalRun,
  rehearsalPrefix,
  type ValidatedClass,
  validationPrefix,
} from '../../domain/validation-report.ts';
import { stamp } from '../../policy/calendar.ts';
import type { Policy } from '../../policy/schema.ts';
import type { PreparedTarget } from '../../restore/isolated-network.ts';
import type { Origin } from '../../restore/source-account.ts';
import type {
  CreatedResource,
  RecoveryPointRef,
  RestoreClass,
  RestoredItem,
  RestoreListing,
  RestoreStep,
} from '../../restore/types.ts';
import { InputError } from '../../runtime/errors.ts';
import type { CheckAdapters, ClassCheck } from '../../validation/checks/types.ts';

/**
 * What the plan and report read and write through; the edge builds them
 * (shared/edge/ports.ts), each function the part it uses (ValidationPlanPorts,
 * ValidationReportPorts). No class's restore or check: those run in each
 * class's own function (ValidationItemPorts).
 */
export interface ValidationPorts {
  /** The policy's vault: plans, item records and reports, written with its Object Lock retention. */
  vault: VaultObjects;
  /** The plan and reports in that vault, written sealed and read checked against their seals. */
  sealed: SealedRecords;
  /** Tags a passed recovery point kura:validated (false: that class has nothing to tag). */
  markValidated: (rp: RecoveryPointRef, at: string) => Promise<boolean>;
  /**
   * The LatestRestorableTime (point-in-time recovery) of the database a recovery point
   * protects, read in its origin (with sources, its own account and source region);
   * undefined when it has none.
   */
  latestRestorableTime: (rp: RecoveryPointRef, origin: Origin) => Promise<Date | undefined>;
  /** Each class's recovery points (the plan's listing; no restore). */
  listing(cls: RestoreClass): Promise<RestoreListing>;
  /** The isolated target with its network, key and bucket made ready. */
  prepareTarget(deps: Deps): Promise<PreparedTarget>;
  /** What a run left in the isolated account (the report's "nothing left behind"). */
  leftovers: Pick<LeftoversPort, 'listManaged' | 'stillExists'>;
}

/** The plan's (functions/validation-step). */
export type ValidationPlanPorts = Pick<
  ValidationPorts,
  'vault' | 'sealed' | 'latestRestorableTime' | 'listing' | 'prepareTarget'
>;
/** The report's (functions/validation-report). */
export type ValidationReportPorts = Pick<ValidationPorts, 'vault' | 'sealed' | 'markValidated' | 'leftovers'>;

/**
 * What one class's item states (restore, check, cleanup) work through: each
 * class's function (functions/validation-<class>) builds them with its own
 * class's adapters only, and refuses an item of another class by name.
 */
export interface ValidationItemPorts<P = CheckAdapters> {
  vault: VaultObjects;
  /** The item's restore step (listing, restore, cleanup). */
  step(cls: RestoreClass): Promise<RestoreStep>;
  /** The item's check, which reads through `checks`. */
  check(cls: RestoreClass): Promise<ClassCheck<P>>;
  checks: P;
  /** The isolated target with what this class restores into made ready. */
  prepareTarget(deps: Deps): Promise<PreparedTarget>;
  /** The database class's sweep after its cleanup (the database function's ports only). */
  database?: {
    /** A cleanup's strays: the databases the run tagged in the isolated account. */
    listManaged: LeftoversPort['listManaged'];
    /** Removes the isolated account from the source snapshots a run shared with it. */
    unshare(isolatedAccount: string, resources: CreatedResource[]): Promise<void>;
  };
}

export interface PlannedItem {
  index: number;
  class: RestoreClass;
  source: string;
  /** With sources: the account and region the database or server lives in (single-account: absent). */
  account?: string;
  sourceRegion?: string;
  recoveryPoint: RecoveryPointRef;
  /** Database: the source's LatestRestorableTime when the plan was made (the PITR RPO). */
  latestRestorableTime?: string;
}

export interface ValidationPlan {
  runId: string;
  time: string;
  createdAt: string;
  sourceAccount: string;
  isolatedAccount: string;
  region: string;
  configured: Record<ValidatedClass, boolean>;
  items: PlannedItem[];
  /** Configured classes with nothing to validate, and why. */
  nothing: { class: RestoreClass; reason: string }[];
  /** A rehearsal's reason ("yearly rehearsal"), recorded in its report. */
  reason?: string;
}

/** One item's record, rewritten by each state that touches it. */
export interface ItemRecord {
  index: number;
  class: RestoreClass;
  source: string;
  account?: string;
  sourceRegion?: string;
  recoveryPoint: RecoveryPointRef;
  latestRestorableTime?: string;
  startedAt?: string;
  attempts: number;
  restored?: RestoredItem;
  restoreError?: { name: string; message: string };
  /** What a failed restore reported as created (cleanup removes it). */
  leftovers?: CreatedResource[];
  check?: { checks: CheckResult[]; achievedRpoMinutes?: number; error?: { name: string; message: string } };
  cleanup?: { status: 'done' | 'failed' | 'not-needed'; detail?: string; resources: string[]; at: string };
}

/** The pointer every Map iteration carries. */
export interface ItemPointer {
  runId: string;
  index: number;
  class: RestoreClass;
  source: string;
}

export const runPrefix = (policy: Policy, runId: string) =>
  `${isRehearsalRun(runId) ? rehearsalPrefix(policy.vault) : validationPrefix(policy.vault)}${runId}/`;
/** Restore durations and checks are timed on the Clients' timer (what polls wait on), not the wall clock. */
export const timerNow = (deps: Deps) => new Date(deps.clients.timer.now());
export const planKey = (policy: Policy, runId: string) => `${runPrefix(policy, runId)}plan.json`;
export const itemKey = (policy: Policy, runId: string, index: number) =>
  `${runPrefix(policy, runId)}items/${String(index).padStart(4, '0')}.json`;
export const reportKey = (policy: Policy, runId: string) => `${runPrefix(policy, runId)}report.json`;
export const reportHtmlKey = (policy: Policy, runId: string) => `${runPrefix(policy, runId)}report.html`;

export function runIdFor(time: Date, override?: string): string {
  const id = override ?? stamp(time);
  if (!/^[a-z0-9][a-z0-9-]{0,23}$/.test(id))
    throw new InputError([
      `runId: found "${id}"; expected 1-24 characters a-z, 0-9, - (default: the run time as yyyymmddHHMM)`,
    ]);
  return id;
}

export function configuredClasses(policy: Policy): Record<ValidatedClass, boolean> {
  return {
    database: policy.database !== undefined,
    image: policy.images !== undefined,
    content: policy.content.length > 0,
    logs: policy.logs !== undefined,
  };
}

/** The item's record; a pointer to a record that is not there is bad input. */
export async function loadItem(
  vault: VaultObjects,
  policy: Policy,
  p: ItemPointer,
): Promise<{ rec: ItemRecord; key: string }> {
  const key = itemKey(policy, p.runId, p.index);
  const rec = await vault.get<ItemRecord>(key);
  if (!rec) throw new InputError([`item ${p.index} of run ${p.runId}: no record at ${vault.location(key)}`]);
  return { rec, key };
}

/** The error a state machine Catch passed on, as a name and a message. */
export function causeMessage(
  e: { Error?: string; Cause?: string } | undefined,
): { name: string; message: string } | undefined {
  if (!e) return undefined;
  let message = e.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: string };
    if (parsed.errorMessage) message = parsed.errorMessage;
  } catch {
    // a plain message
  }
  return { name: e.Error ?? 'Error', message };
}

/** Always runs (the state machine's Catch leads here): removes what the item's restore created. */
