// Domain (reports): the compliance report. The policy, line by line, as
// controls with evidence over a period: for each class and source the
// schedule, retention, point-in-time window, DR copies and the isolated
// account's use of them, Object Lock and lifecycle; across the period the
// monthly validation, its data checks, the measured restore time against the
// RTO and the yearly rehearsal; and the vault's own protections. Each control
// is PASS, FAIL or NOT EVALUATED (with why), names the policy key it comes
// from and carries its evidence. It joins what the other reports compute
// (inventory, lifecycle, validation history): nothing is measured twice. Pure.
// The parts live in compliance/.
export {
  type ComplianceInput,
  type ComplianceReport,
  type Control,
  CONTROL_TITLES,
  type ControlKind,
  type ControlStatus,
  type CopyEvidence,
  type RehearsalEvidence,
} from './compliance/model.ts';
export { isRehearsal } from './compliance/period-controls.ts';
export { complianceReport, failedControls } from './compliance/report.ts';
export { complianceCsv, complianceHtml, complianceMarkdown, controlRows } from './compliance/render.ts';
