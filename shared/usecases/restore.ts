// Use case: the orchestrated restore. Each task of the restore state machine
// (plan, approval, item, report) is one module under restore/ and is safe to
// call again: progress lives in the vault under restores/<request-id>/, so a
// re-run of the same request resumes and never duplicates. The tasks receive
// their ports (restore/ports.ts); shared/edge/restore-ports.ts binds them to AWS.
export type { RestoreItemPorts, RestorePlanPorts, RestorePorts } from './restore/ports.ts';
export { type PlannedRestore, type PlanOutput, planRestore, recordPlan } from './restore/plan-request.ts';
export { requestApproval, summarize, writeReport } from './restore/report.ts';
export { type ItemOutput, restoreItem } from './restore/restore-item.ts';
export { type ApprovalRecord, type RestoreState, readRecords } from './restore/state.ts';
