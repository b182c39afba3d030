// Domain (validation report): the canonical JSON of a report and the hash
// chain that links each report to the one before by its SHA-256, verifiable
// without trusting kura.
import { createHash } from 'node:crypto';
import type { ValidationReport } from './model.ts';

export function serializeReport(report: ValidationReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export function sha256Hex(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export interface ChainEntry {
  key: string;
  body: string;
  /** Why the report failed its seal check (seals.ts), when it did. */
  sealProblem?: string;
}

export interface ChainCheck {
  ok: boolean;
  reports: {
    key: string;
    runId?: string;
    verdict?: string;
    sha256: string;
    linked: boolean;
    problem?: string;
  }[];
  problems: string[];
}

/** Verifies the chain over reports in run order (oldest first). */
export function verifyChain(entries: ChainEntry[]): ChainCheck {
  const problems: string[] = [];
  const reports: ChainCheck['reports'] = [];
  let prev: { key: string; sha256: string } | null = null;
  for (const e of entries) {
    const sha256 = sha256Hex(e.body);
    let parsed: ValidationReport | undefined;
    try {
      parsed = JSON.parse(e.body) as ValidationReport;
    } catch {
      // reported below
    }
    let problem: string | undefined;
    if (parsed?.kind !== 'kura.validation-report') problem = 'not a kura validation report';
    else if (prev === null && parsed.previous !== null) {
      problem = `names a previous report ${parsed.previous.key} that is not in the chain`;
    } else if (
      prev !== null &&
      (parsed.previous?.key !== prev.key || parsed.previous?.sha256 !== prev.sha256)
    ) {
      problem = parsed.previous
        ? `previous is ${parsed.previous.key} ${parsed.previous.sha256.slice(0, 12)}…, expected ${prev.key} ${prev.sha256.slice(0, 12)}… (a report was changed, removed or inserted)`
        : `previous is missing, expected ${prev.key}`;
    }
    if (e.sealProblem) problem = problem ? `${e.sealProblem}; ${problem}` : e.sealProblem;
    if (problem) problems.push(`${e.key}: ${problem}`);
    reports.push({
      key: e.key,
      runId: parsed?.runId,
      verdict: parsed?.verdict,
      sha256,
      linked: !problem,
      problem,
    });
    prev = { key: e.key, sha256 };
  }
  return { ok: problems.length === 0, reports, problems };
}

/** The rehearsal in one sentence: why, and the whole system's restore time against its target. */
