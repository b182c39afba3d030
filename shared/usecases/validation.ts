// Use case: the monthly validation. Each state of statemachines/validation.asl.yml
// calls one of these: plan (latest recovery point per class and source),
// restore (into the isolated account, through the class's RestoreStep),
// check, cleanup (always), report (verdict, hash chain, kura:validated tags).
// Each receives the ports it works through (ValidationPorts), built at the edge.

export const FUNCTION_NAME = 'validation-step';

export { RUN_TAG } from '../restore/database.ts';
export { checkItem, cleanupItem, restoreItem, type StepOptions } from './validation/items.ts';
export { planValidation } from './validation/plan.ts';
export {
  configuredClasses,
  type ItemPointer,
  type ItemRecord,
  type PlannedItem,
  reportHtmlKey,
  reportKey,
  runIdFor,
  runPrefix,
  type ValidationPlan,
  type ValidationItemPorts,
  type ValidationPorts,
} from './validation/records.ts';
export { alertTopicArn, type ReportResult, reportValidation } from './validation/report.ts';
