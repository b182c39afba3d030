// Runtime: the shape every scheduled run returns. Each target gets an outcome;
// metrics are data in the result so that the Lambda edge publishes them and
// local runs print them.

export interface MetricPoint {
  name: string;
  value: number;
  unit: 'Count' | 'Seconds' | 'Bytes' | 'Percent';
  dimensions?: Record<string, string>;
}

export interface TargetOutcome {
  target: string;
  status: 'ok' | 'skipped' | 'failed';
  actions: string[];
  warnings: string[];
  error?: { name: string; message: string };
  [extra: string]: unknown;
}

export interface RunResult {
  function: string;
  time: string;
  ok: boolean;
  targets: TargetOutcome[];
  warnings: string[];
  metrics: MetricPoint[];
  [extra: string]: unknown;
}

export function errorInfo(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/**
 * Runs `work` for every target; a failing target never stops the others.
 * Returns the outcomes in target order.
 */
export async function forEachTarget<T>(
  targets: T[],
  id: (t: T) => string,
  work: (t: T, outcome: TargetOutcome) => Promise<void>,
): Promise<TargetOutcome[]> {
  const outcomes: TargetOutcome[] = [];
  for (const t of targets) {
    const outcome: TargetOutcome = { target: id(t), status: 'ok', actions: [], warnings: [] };
    try {
      await work(t, outcome);
    } catch (err) {
      outcome.status = 'failed';
      outcome.error = errorInfo(err);
    }
    outcomes.push(outcome);
  }
  return outcomes;
}

/** An empty result for a run of `fn` at the scheduled time `now`. */
export function newRunResult(fn: string, now: Date): RunResult {
  return { function: fn, time: now.toISOString(), ok: true, targets: [], warnings: [], metrics: [] };
}
