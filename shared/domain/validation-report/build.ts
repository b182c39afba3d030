// Domain (validation report): the verdict built from what each item's restore,
// checks and cleanup recorded, and which checks read the data itself.
import {
  type AccountSummary,
  CLASSES,
  type ClassSummary,
  firstFailure,
  type ItemOutcome,
  itemStatus,
  type ValidatedClass,
  type ValidationReport,
} from './model.ts';

/** How problems and warnings name an item: `database shop`, with sources `database shop (333333333333 ap-northeast-1)`. */
export function itemLabel(i: Pick<ItemOutcome, 'class' | 'source' | 'account' | 'sourceRegion'>): string {
  const where = i.account ? ` (${i.account}${i.sourceRegion ? ` ${i.sourceRegion}` : ''})` : '';
  return `${i.class} ${i.source}${where}`;
}

export interface ReportInput {
  runId: string;
  time: string;
  generatedAt: string;
  region: string;
  sourceAccount?: string;
  isolatedAccount?: string;
  configured: Record<ValidatedClass, boolean>;
  items: ItemOutcome[];
  leftovers: string[];
  problems: string[];
  previous: { key: string; sha256: string } | null;
  /** The AWS endpoint the run used when it was not AWS (an emulator). */
  emulatorEndpoint?: string;
}

export function buildReport(input: ReportInput): ValidationReport {
  const items = input.items.map((i) => {
    const status = itemStatus(i);
    return {
      ...i,
      status,
      reason: status === 'pass' ? undefined : (i.reason ?? firstFailure({ ...i, status })),
    };
  });
  const warnings: string[] = [];
  const classes: ClassSummary[] = CLASSES.map((cls) => {
    const mine = items.filter((i) => i.class === cls);
    const s: ClassSummary = {
      class: cls,
      configured: input.configured[cls],
      items: mine.length,
      passed: mine.filter((i) => i.status === 'pass').length,
      failed: mine.filter((i) => i.status === 'fail').length,
      skipped: mine.filter((i) => i.status === 'skip').length,
    };
    if (!s.configured) s.note = 'not configured in the policy';
    else if (mine.length === 0 || s.skipped === mine.length)
      s.note = 'nothing to validate: no kura-managed recovery point';
    if (s.configured && s.note) warnings.push(`${cls}: ${s.note}`);
    for (const i of mine)
      if (i.status === 'skip' && i.source !== '-')
        warnings.push(`${itemLabel(i)} not validated: ${i.reason}`);
    return s;
  });
  const accounts = accountSummaries(items);
  const failed = items.filter((i) => i.status === 'fail');
  const verdict =
    failed.length === 0 && input.leftovers.length === 0 && input.problems.length === 0 ? 'PASS' : 'FAIL';
  const passed = items.filter((i) => i.status === 'pass').length;
  const reasons = [
    ...input.problems,
    ...failed.map((i) => `${itemLabel(i)}: ${i.reason}`),
    ...(input.leftovers.length ? [`left behind in the isolated account: ${input.leftovers.join(', ')}`] : []),
  ];
  const summary =
    verdict === 'PASS'
      ? `PASS: ${passed} recovery point(s) restored in the isolated account, checked and cleaned up`
      : `FAIL: ${reasons.join(' | ')}`;
  const data = dataCoverage(items);
  if (data.unchecked.length)
    warnings.push(
      `no data was checked for ${data.unchecked.join(', ')}: only that the restore worked (infrastructure); add validation.sqlProbes for databases`,
    );
  for (const i of items)
    for (const o of i.objectives ?? [])
      if (o.status === 'fail' && o.objective === 'RPO') warnings.push(`${itemLabel(i)}: RPO ${o.detail}`);
  if (input.emulatorEndpoint)
    warnings.push(
      `measured on an emulator (${input.emulatorEndpoint}): restore times are the emulator's, not AWS's, and say nothing about the RTO`,
    );
  return {
    kind: 'kura.validation-report',
    version: 1,
    runId: input.runId,
    time: input.time,
    generatedAt: input.generatedAt,
    sourceAccount: input.sourceAccount,
    isolatedAccount: input.isolatedAccount,
    region: input.region,
    verdict,
    summary,
    classes,
    ...(accounts.length ? { accounts } : {}),
    items,
    leftovers: input.leftovers,
    problems: input.problems,
    warnings,
    previous: input.previous,
    ...(input.emulatorEndpoint ? { measuredOn: { kind: 'emulator', endpoint: input.emulatorEndpoint } } : {}),
  };
}

/** Per source account: its items and their results ([] in single-account mode: no item names one). */
export function accountSummaries(
  items: Pick<ItemOutcome, 'account' | 'sourceRegion' | 'status'>[],
): AccountSummary[] {
  const by = new Map<string, AccountSummary>();
  for (const i of items) {
    if (!i.account) continue;
    const s = by.get(i.account) ?? {
      account: i.account,
      regions: [],
      items: 0,
      passed: 0,
      failed: 0,
      skipped: 0,
    };
    if (i.sourceRegion && !s.regions.includes(i.sourceRegion))
      s.regions = [...s.regions, i.sourceRegion].sort();
    s.items += 1;
    if (i.status === 'pass') s.passed += 1;
    else if (i.status === 'fail') s.failed += 1;
    else s.skipped += 1;
    by.set(i.account, s);
  }
  return [...by.values()].sort((a, b) => a.account.localeCompare(b.account));
}

/**
 * Checks that looked at the data itself, not only at the restored
 * infrastructure: SQL probes (database), SHA-256 of restored objects against
 * the manifest (content), a bundle against its manifest (logs). A machine
 * image has no data check of its own: it is infrastructure.
 */
export function isDataCheck(cls: ValidatedClass, check: string): boolean {
  if (cls === 'database') return check.startsWith('sql:');
  if (cls === 'content') return check === 'sha256';
  if (cls === 'logs') return check === 'bundle vs manifest';
  return false;
}

/** Which restored items had a passing data check, and which were checked only as infrastructure. */
export function dataCoverage(
  items: Pick<ItemOutcome, 'class' | 'source' | 'account' | 'sourceRegion' | 'checks' | 'status'>[],
): {
  checked: string[];
  unchecked: string[];
} {
  const out = { checked: [] as string[], unchecked: [] as string[] };
  for (const i of items) {
    if (i.class === 'image' || i.status === 'skip') continue;
    const ok = i.checks.some((c) => c.status === 'pass' && isDataCheck(i.class, c.name));
    (ok ? out.checked : out.unchecked).push(itemLabel(i));
  }
  return out;
}

/** The verdict as a person must read it: a PASS that checked no data says so. */
export function verdictText(r: Pick<ValidationReport, 'verdict' | 'items'>): string {
  if (r.verdict !== 'PASS') return r.verdict;
  const d = dataCoverage(r.items);
  if (d.unchecked.length === 0) return 'PASS';
  return d.checked.length === 0
    ? 'PASS (infrastructure only: no data checked)'
    : 'PASS (data not checked for some items)';
}

/** The exact bytes stored (and hashed): pretty JSON with a final newline. */
