// Policy: validation of an already-parsed document and the messages for
// people. No YAML here, so Lambda bundles (which get the policy as JSON in
// KURA_POLICY_JSON) stay small.
import type * as z from 'zod/mini';
import { PolicyError } from '../runtime/errors.ts';
import { type Policy, policySchema } from './schema.ts';

function valueAt(raw: unknown, path: PropertyKey[]): { present: boolean; value?: unknown } {
  let cur: unknown = raw;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !(String(key) in (cur as object)))
      return { present: false };
    cur = (cur as Record<string, unknown>)[String(key)];
  }
  return { present: true, value: cur };
}

const MAX_SHOWN = 80;

/** JSON for a message: never throws (YAML aliases can make a list contain itself) and never floods the terminal. */
function shown(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = '[…] (a list that contains itself)';
  }
  const size = typeof value === 'string' ? value.length : text.length;
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}… (${size} characters)` : text;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list ${shown(value)}`;
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${shown(value)}`;
}

/**
 * What was expected, in words. zod/mini carries no message catalogue: an
 * issue without a message of our own says only "Invalid input", so the
 * common codes are spelt out here from the issue's own facts.
 */
function expectedOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  if (issue.message && issue.message !== 'Invalid input') return issue.message;
  switch (issue.code) {
    case 'invalid_value':
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    case 'too_big':
      return `expected at most ${issue.maximum}`;
    case 'too_small':
      return `expected at least ${issue.minimum}`;
    case 'invalid_key':
      return `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
    case 'invalid_format':
      return 'prefix' in issue
        ? `expected a value starting with "${issue.prefix}"`
        : 'suffix' in issue
          ? `expected a value ending with "${issue.suffix}"`
          : `expected the ${issue.format} format`;
    default:
      return `expected a valid value (${issue.code})`;
  }
}

export function formatIssues(issues: z.core.$ZodIssue[], raw: unknown, file: string): string[] {
  return issues.map((issue) => {
    const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      return `${file}: ${path}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; check the spelling`;
    }
    const at = valueAt(raw, issue.path);
    const found = at.present ? `found ${describe(at.value)}` : 'missing';
    // A refinement may quote the value it refused: keep the line readable whatever the value.
    const expected = expectedOf(issue);
    return `${file}: ${path}: ${found}; ${expected.length > 300 ? `${expected.slice(0, 300)}…` : expected}`;
  });
}

/** Validates an already-parsed policy document. Throws PolicyError listing every problem. */
export function parsePolicy(raw: unknown, file = 'policy'): Policy {
  const result = policySchema.safeParse(raw);
  if (result.success) return result.data;
  throw new PolicyError(formatIssues(result.error.issues, raw, file));
}
