// Domain (reports): the inventory report for auditors: every kura-managed
// recovery point with its age, the coverage of each series (gaps listed),
// newest validated point, achieved RPO and last measured RTO per class, and
// what crashed runs left behind. Pure: the use case hands in what it read.
// The parts live in inventory/.
export {
  type AccountRow,
  accountRows,
  type ClassSummary,
  type InventoryInput,
  type InventoryReport,
  inventoryReport,
  type OrphanRow,
} from './inventory/build.ts';
export {
  classRows,
  coverageLegend,
  gapText,
  inventoryHtml,
  inventoryMarkdown,
  orphanRows,
  perAccountRows,
  pitrDrift,
  pitrText,
  pointRows,
  seriesRows,
  STATE_COLOURS,
} from './inventory/render.ts';
