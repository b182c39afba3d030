// `kura verify …`: re-read backups and compare them with their manifests.
import type { Command } from 'commander';
import { registerContentVerify } from '../content/verify.ts';

const SUBCOMMANDS: Array<(verify: Command) => void> = [registerContentVerify];

export function registerVerify(program: Command): void {
  const verify = program
    .command('verify')
    .description('re-read backups and check them against their manifests');
  for (const add of SUBCOMMANDS) add(verify);
}
