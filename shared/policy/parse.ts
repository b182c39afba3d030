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

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list ${JSON.stringify(value).slice(0, 60)}`;
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

export function formatIssues(issues: z.core.$ZodIssue[], raw: unknown, file: string): string[] {
  return issues.map((issue) => {
    const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      return `${file}: ${path}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; check the spelling`;
    }
    const at = valueAt(raw, issue.path);
    const found = at.present ? `found ${describe(at.value)}` : 'missing';
    const expected = issue.code === 'invalid_type' ? `expected ${issue.expected}` : issue.message;
    return `${file}: ${path}: ${found}; ${expected}`;
  });
}

/** Validates an already-parsed policy document. Throws PolicyError listing every problem. */
export function parsePolicy(raw: unknown, file = 'policy'): Policy {
  const result = policySchema.safeParse(raw);
  if (result.success) return result.data;
  throw new PolicyError(formatIssues(result.error.issues, raw, file));
}
