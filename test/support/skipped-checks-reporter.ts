// Test support (vitest reporter, next to the default one): at the end of a
// run, says which checks were skipped and why, grouped by reason, e.g.
// "3 checks skipped: chromium not installed — apt-get install chromium".
// The reasons are the notes that test/support/tools.ts passes to ctx.skip.
import type { Reporter, TestModule } from 'vitest/node';

/** One line per reason, the most frequent first. */
export function skippedSummary(notes: readonly (string | undefined)[]): string[] {
  const counts = new Map<string, number>();
  for (const n of notes) {
    const why = n ?? 'no reason given';
    counts.set(why, (counts.get(why) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([why, n]) => `${n} ${n === 1 ? 'check' : 'checks'} skipped: ${why}`);
}

export default class SkippedChecksReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const notes: (string | undefined)[] = [];
    for (const m of testModules)
      for (const t of m.children.allTests('skipped')) {
        const r = t.result();
        notes.push(r.state === 'skipped' ? r.note : undefined);
      }
    const lines = skippedSummary(notes);
    if (lines.length > 0) process.stdout.write(`\n${lines.map((l) => ` ${l}`).join('\n')}\n\n`);
  }
}
