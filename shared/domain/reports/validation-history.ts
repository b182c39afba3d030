// Domain (reports): the history of monthly validation runs, one row per report
// with its verdict, counts, SHA-256 and whether it links to the report before
// it (the hash chain of validation-report.ts). Pure. The parts live in
// validation-history/.
export {
  type HistoryRow,
  type MonthCell,
  type ValidationHistory,
  validationHistory,
  validationMonths,
} from './validation-history/build.ts';
export {
  historyHtml,
  historyMarkdown,
  historyRows,
  missedMonths,
  MONTH_COLOURS,
  monthLegend,
  monthsChart,
  monthWord,
} from './validation-history/render.ts';
