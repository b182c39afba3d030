// Domain (reports, compliance): the report's model: a control, its status and
// evidence, the inputs the report joins, and the helpers that build a control.
import type { Policy } from '../../../policy/schema.ts';
import type { LifecycleReport } from '../../lifecycle/report.ts';
import type { ValidationReport } from '../../validation-report.ts';
import type { Point } from '../coverage.ts';
import { fmtNumber } from '../html.ts';
import type { InventoryReport } from '../inventory.ts';
import type { ValidationHistory } from '../validation-history.ts';

export type ControlStatus = 'PASS' | 'FAIL' | 'NOT EVALUATED';

export type ControlKind =
  | 'schedule'
  | 'retention'
  | 'point-in-time'
  | 'dr-copy'
  | 'isolated-use'
  | 'lock-lifecycle'
  | 'validation-monthly'
  | 'validation-data'
  | 'restore-time'
  | 'rehearsal'
  | 'vault-lock'
  | 'vault-encryption'
  | 'vault-access';

export const CONTROL_TITLES: Record<ControlKind, string> = {
  schedule: 'schedule met',
  retention: 'retention held',
  'point-in-time': 'point-in-time window',
  'dr-copy': 'copy in the DR region',
  'isolated-use': 'isolated account can use it',
  'lock-lifecycle': 'Object Lock and lifecycle',
  'validation-monthly': 'monthly validation every month',
  'validation-data': 'validation checked data',
  'restore-time': 'restore within the RTO',
  rehearsal: 'yearly rehearsal',
  'vault-lock': 'versioning and Object Lock',
  'vault-encryption': 'encryption',
  'vault-access': 'only administrators reach it',
};

export interface Control {
  /** area/source/kind, stable for machines. */
  id: string;
  /** database, content, logs, image (per source), validation (across the period) or vault. */
  area: string;
  source?: string;
  kind: ControlKind;
  control: string;
  /** The policy key(s) the requirement comes from. */
  policyKey: string;
  requirement: string;
  status: ControlStatus;
  /** One line: what was found. */
  finding: string;
  /** Ids, times and figures the finding rests on. */
  evidence: string[];
  /** Why a control could not be evaluated. */
  why?: string;
  /** Figures measured on an emulator, not on AWS. */
  emulator?: boolean;
}

/** A kura-managed recovery point in the source region, as the isolated account would need it. */
export interface CopyEvidence {
  class: 'database' | 'image';
  source: string;
  id: string;
  time: string;
  region: string;
  sharedWithIsolated?: boolean;
  encrypted?: boolean;
  /** The point's KMS key allows the isolated account ('aws-managed': it never can). */
  keyAllowsIsolated?: boolean | 'aws-managed';
  keyArn?: string;
  /** A read that failed: evidence that could not be gathered. */
  error?: string;
}

/** An orchestrated restore that may count as the yearly rehearsal. */
export interface RehearsalEvidence {
  requestId: string;
  reason: string;
  status: string;
  startedAt: string;
  finishedAt?: string;
  classes: string[];
  durationSeconds?: number;
  /** Slowest item, for the restore-time control. */
  items: { class: string; source: string; durationSeconds?: number; rtoMinutes: number }[];
}

export interface ComplianceInput {
  policy: Policy;
  from: Date;
  to: Date;
  generatedAt: Date;
  inventory: InventoryReport;
  lifecycle?: LifecycleReport;
  history: ValidationHistory;
  validations: ValidationReport[];
  copies: CopyEvidence[];
  rehearsals: RehearsalEvidence[];
  /** Logs, one point per day held (a loose file or a committed bundle of the day), over their retention. */
  logDays?: Point[];
  /** When kura first recorded a backup (the vault's first-point records). */
  since?: Date;
  /** The endpoint read when it is not AWS. */
  emulatorEndpoint?: string;
  notes?: string[];
}

export interface ComplianceReport {
  kind: 'kura.compliance-report';
  generatedAt: string;
  from: string;
  to: string;
  timezone: string;
  bucket: string;
  emulator?: string;
  summary: { pass: number; fail: number; notEvaluated: number; total: number };
  controls: Control[];
  /** The chart data the page draws: coverage of the last days of the period and the validation months. */
  coverage: {
    days: string[];
    rows: { label: string; cells: { day: string; state: string; title: string }[] }[];
  };
  months: ValidationHistory['months'];
  notes: string[];
}

export const PENDING_MS = 60 * 60_000;
export const REHEARSAL = /rehears/i;

export function control(c: Omit<Control, 'id' | 'control'> & { control?: string }): Control {
  return {
    id: [c.area, c.source, c.kind].filter(Boolean).join('/'),
    control: c.control ?? CONTROL_TITLES[c.kind],
    ...c,
  };
}

export const pick = (status: ControlStatus, rest: Omit<Control, 'id' | 'control' | 'status'>) =>
  control({ ...rest, status });

export function days(ms: number): string {
  return `${fmtNumber(Math.round((ms / 86_400_000) * 10) / 10)} d`;
}
