// Domain: the monthly validation report. Pure: builds the verdict from what
// each item's restore, checks and cleanup recorded, renders it for people
// (HTML, Markdown) and for machines (canonical JSON), and links each report to
// the one before by the previous report's SHA-256 (a hash chain an auditor can
// verify without trusting kura). The parts live in validation-report/.
export {
  type AccountSummary,
  type CheckResult,
  type CheckStatus,
  CLASSES,
  type ClassSummary,
  firstFailure,
  isRehearsalRun,
  type ItemOutcome,
  type ItemStatus,
  itemStatus,
  minutesBetween,
  REHEARSAL_REASON,
  type RehearsalOutcome,
  rehearsalPrefix,
  rtoMinutesFor,
  type RtoTargets,
  type ValidatedClass,
  validationPrefix,
  type ValidationReport,
} from './validation-report/model.ts';
export {
  accountSummaries,
  buildReport,
  dataCoverage,
  isDataCheck,
  type ReportInput,
  verdictText,
} from './validation-report/build.ts';
export {
  type ChainCheck,
  type ChainEntry,
  serializeReport,
  sha256Hex,
  verifyChain,
} from './validation-report/chain.ts';
export { accountLines, rehearsalLine, renderHtml, renderMarkdown } from './validation-report/render.ts';
