// Domain (validation report): the report's model, where reports live in the
// vault, the RTO per class, and an item's status from its checks.
import type { Objective } from '../recovery-objectives.ts';

export type ValidatedClass = 'database' | 'image' | 'content' | 'logs';
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';
export type ItemStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  value?: string | number | boolean | null;
}

export interface ItemOutcome {
  class: ValidatedClass;
  source: string;
  /** With sources: the account (and region, for databases and servers) the item comes from. */
  account?: string;
  sourceRegion?: string;
  recoveryPoint?: { id: string; time: string; region: string };
  status: ItemStatus;
  /** Why it failed or was skipped, in one line. */
  reason?: string;
  restore?: {
    startedAt: string;
    finishedAt: string;
    durationSeconds: number;
    rtoMinutes: number;
    withinRto: boolean;
    endpoint?: string;
  };
  /** Age of the recovery point at the run's time (how old the newest backup was). */
  recoveryPointAgeMinutes?: number;
  /** Data the recovery point does not hold: backup time minus the newest row (database with a latestRowAge probe) or the point's age. */
  achievedRpoMinutes?: number;
  /** Recovery objectives measured from the real sources, each with its target and pass or fail. */
  objectives?: Objective[];
  checks: CheckResult[];
  cleanup: { status: 'done' | 'failed' | 'not-needed'; detail?: string; resources: string[] };
  /** The recovery point was tagged kura:validated. */
  markedValidated?: boolean;
}

export interface ClassSummary {
  class: ValidatedClass;
  configured: boolean;
  items: number;
  passed: number;
  failed: number;
  skipped: number;
  note?: string;
}

/** With sources: one source account's items in the run. */
export interface AccountSummary {
  account: string;
  /** The source regions its databases and servers came from. */
  regions: string[];
  items: number;
  passed: number;
  failed: number;
  skipped: number;
}

export interface ValidationReport {
  kind: 'kura.validation-report';
  version: 1;
  runId: string;
  /** The scheduled time of the run. */
  time: string;
  generatedAt: string;
  sourceAccount?: string;
  isolatedAccount?: string;
  region: string;
  verdict: 'PASS' | 'FAIL';
  summary: string;
  classes: ClassSummary[];
  /** With sources: per source account (absent in single-account mode). */
  accounts?: AccountSummary[];
  items: ItemOutcome[];
  /** Resources tagged with this run still in the isolated account after cleanup. */
  leftovers: string[];
  /** Run-level failures: the plan, the isolated role, a cleanup step that never ran. */
  problems: string[];
  warnings: string[];
  /** The report before this one: its key and the SHA-256 of its JSON bytes; null for the first. */
  previous: { key: string; sha256: string } | null;
  /** Set when the run talked to an emulator: its restore times are not AWS's. */
  measuredOn?: { kind: 'emulator'; endpoint: string };
  /** A yearly rehearsal: the whole system restored at one point in time, and how long it took. */
  rehearsal?: RehearsalOutcome;
}

export interface RehearsalOutcome {
  reason: string;
  /** The whole system: first restore started to last restore finished, against validation.rto.systemMinutes. */
  system?: {
    startedAt: string;
    finishedAt: string;
    minutes: number;
    targetMinutes: number;
    withinTarget: boolean;
  };
}

export const CLASSES: ValidatedClass[] = ['database', 'image', 'content', 'logs'];

/** Where the validation runs keep their records and reports: <reportsPrefix>validation/<runId>/. */
export function validationPrefix(vault: { reportsPrefix: string }): string {
  return `${vault.reportsPrefix}validation/`;
}

/** The yearly rehearsals, beside the monthly runs and chained among themselves: <reportsPrefix>rehearsal/<runId>/. */
export function rehearsalPrefix(vault: { reportsPrefix: string }): string {
  return `${vault.reportsPrefix}rehearsal/`;
}

export const REHEARSAL_REASON = 'yearly rehearsal';

/** A rehearsal's run id: `rehearsal-<yyyymmddHHMM>` (its records and report live under rehearsalPrefix). */
export const isRehearsalRun = (runId: string): boolean => runId.startsWith('rehearsal-');

export interface RtoTargets {
  dataMinutes: number;
  systemMinutes: number;
  logsMinutes: number;
}

/** The RTO a class is measured against: system (image), logs, data (database, content). */
export function rtoMinutesFor(cls: ValidatedClass, rto: RtoTargets): number {
  if (cls === 'image') return rto.systemMinutes;
  if (cls === 'logs') return rto.logsMinutes;
  return rto.dataMinutes;
}

export function minutesBetween(older: string | Date, newer: string | Date): number {
  return Math.round(((new Date(newer).getTime() - new Date(older).getTime()) / 60_000) * 10) / 10;
}

/** An item's status from its checks, restore and cleanup: any failure fails it. */
export function itemStatus(item: Omit<ItemOutcome, 'status'> & { status?: ItemStatus }): ItemStatus {
  if (item.status === 'skip') return 'skip';
  if (item.reason && item.status === 'fail') return 'fail';
  if (item.checks.some((c) => c.status === 'fail')) return 'fail';
  if (item.restore && !item.restore.withinRto) return 'fail';
  if (item.cleanup.status === 'failed') return 'fail';
  if (!item.restore) return 'fail';
  return 'pass';
}

export function firstFailure(item: ItemOutcome): string | undefined {
  if (item.reason) return item.reason;
  const c = item.checks.find((x) => x.status === 'fail');
  if (c) return `${c.name}: ${c.detail}`;
  if (item.restore && !item.restore.withinRto) {
    return `restore took ${minutesBetween(item.restore.startedAt, item.restore.finishedAt)} min, over the RTO of ${item.restore.rtoMinutes} min`;
  }
  if (item.cleanup.status === 'failed') return `cleanup failed: ${item.cleanup.detail ?? ''}`;
  return undefined;
}
