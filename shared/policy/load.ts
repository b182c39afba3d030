// Policy: reading backup-policy.yml, or the file KURA_POLICY / --policy names.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { PolicyError } from '../runtime/errors.ts';
import { parsePolicy } from './parse.ts';
import type { Policy } from './schema.ts';

export const DEFAULT_POLICY_PATH = resolve(
  fileURLToPath(new URL('../../backup-policy.yml', import.meta.url)),
);

export function policyPath(explicit?: string): string {
  // An empty KURA_POLICY is unset, not the current directory.
  return resolve(explicit ?? (process.env.KURA_POLICY || DEFAULT_POLICY_PATH));
}

export function readPolicyDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyError([
      `${file}: cannot read the policy file (${(err as NodeJS.ErrnoException).code ?? err})`,
    ]);
  }
  try {
    return parse(text);
  } catch (err) {
    throw new PolicyError([`${file}: not valid YAML: ${(err as Error).message}`]);
  }
}

export function loadPolicy(explicit?: string): Policy {
  const file = policyPath(explicit);
  return parsePolicy(readPolicyDocument(file), file);
}
