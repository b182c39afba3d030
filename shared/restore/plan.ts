// Restore (domain): the plan of an orchestrated restore, the record each item
// leaves, and the report built from them. Pure: no AWS imports. The parts
// live in plan/.
export {
  buildPlan,
  describeSelection,
  type ItemRecord,
  type ItemStatus,
  type Phase,
  PHASE_OF,
  type PlanItem,
  type RestorePlan,
  rtoMinutes,
} from './plan/items.ts';
export { buildReport, type ReportItem, type RestoreReport } from './plan/report.ts';
export { accessLines, cleanupLines, reportMarkdown } from './plan/report-text.ts';
