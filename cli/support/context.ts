// CLI support: the policy and clients a command works with, and the guard
// every command that changes something goes through.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { fromIni } from '@aws-sdk/credential-provider-ini';
import type { Command } from 'commander';
import { commandClock } from '../../local/simulated-time.ts';
import { Clients, type ClientsOptions } from '../../shared/aws/clients.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { onCalendar } from '../../shared/policy/calendar.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { InputError } from '../../shared/runtime/errors.ts';

export function globalOpts(cmd: Command): { policy?: string; debug?: boolean; isolatedProfile?: string } {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts();
}

export function commandPolicy(cmd: Command): Policy {
  return loadPolicy(globalOpts(cmd).policy);
}

/**
 * The composition root of every command: the endpoint is the one the
 * environment names (AWS_ENDPOINT_URL, the CLI's contract), given to Clients
 * explicitly; KURA_SIMULATED_TIME (set by `kura demo`'s and the tests' harness)
 * puts the command's requests on that simulated clock of kura's emulator (one
 * clock per command, its time handed back through KURA_SIMULATED_TIME_FILE).
 */
export function commandClientsOptions(): ClientsOptions {
  const endpoint = process.env.AWS_ENDPOINT_URL || undefined;
  const clock = commandClock();
  if (clock && endpoint) return clock.clientOptions(endpoint);
  return endpoint ? { endpoint } : {};
}

/**
 * The isolated account as the operator holds it: a named profile (flag, else
 * KURA_ISOLATED_PROFILE) read from the shared AWS config and credentials
 * files. kura's restore role there trusts only kura's functions, so a person
 * enters with the isolated account's own credentials, never through it.
 */
export function isolatedProfile(cmd: Command): string | undefined {
  return globalOpts(cmd).isolatedProfile || process.env.KURA_ISOLATED_PROFILE || undefined;
}

export function commandDeps(cmd: Command): Deps {
  const policy = commandPolicy(cmd);
  const options = commandClientsOptions();
  const profile = isolatedProfile(cmd);
  return {
    policy,
    clients: new Clients({ region: policy.region, ...options }),
    ...(profile
      ? {
          isolated: new Clients({
            ...options,
            region: policy.isolatedAccount?.region ?? policy.region,
            credentials: fromIni({ profile }),
            label: `profile ${profile}`,
          }),
        }
      : {}),
  };
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
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || !onCalendar(value) || Number.isNaN(t.getTime())) {
    throw new InputError([
      `${flag}: found "${value}"; expected an ISO-8601 time such as 2026-11-21T04:00:00+09:00`,
    ]);
  }
  return t;
}

/** A JSON object from a file named by a flag; anything else is an InputError naming the flag. */
export function readJsonObject(file: string, flag: string, example: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError([
      `${flag} ${file}: ${(err as Error).message}; expected a JSON file such as ${example}`,
    ]);
  }
  // null, a list or a string would surface later as a TypeError instead of saying what is wrong.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const found = parsed === null ? 'null' : Array.isArray(parsed) ? 'a list' : typeof parsed;
    throw new InputError([`${flag} ${file}: found ${found}; expected a JSON object such as ${example}`]);
  }
  return parsed as Record<string, unknown>;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
