// CLI support: the policy and clients a command works with, and the guard
// every command that changes something goes through.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { Clients } from '../../shared/aws/clients.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import type { Deps } from '../../shared/runtime/lambda.ts';

export function globalOpts(cmd: Command): { policy?: string; debug?: boolean } {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts();
}

export function commandPolicy(cmd: Command): Policy {
  return loadPolicy(globalOpts(cmd).policy);
}

export function commandDeps(cmd: Command): Deps {
  const policy = commandPolicy(cmd);
  return { policy, clients: new Clients({ region: policy.region }) };
}

/**
 * Asks before a change. `--yes` skips the question; without a terminal and
 * without --yes the change is refused rather than assumed.
 */
export async function confirmChange(what: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new InputError([
      `${what}: this changes resources; re-run with --yes to confirm (no terminal to ask on)`,
    ]);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${what}\nProceed? [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes')
      throw new InputError([`${what}: not confirmed, nothing was changed`]);
  } finally {
    rl.close();
  }
}

export function parseTime(value: string, flag = '--time'): Date {
  const t = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t.getTime())) {
    throw new InputError([
      `${flag}: found "${value}"; expected an ISO-8601 time such as 2026-11-21T04:00:00+09:00`,
    ]);
  }
  return t;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
