// `kura restore content --source <name> --generation <date|latest> --to s3://bucket/prefix/ [--yes]`:
// copies one generation of a content source, by vault version ids, under an
// empty prefix; says what it restored where and how long it took.
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { vaultLock } from '../../shared/aws/vault-lock.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';
import { findSource } from '../../shared/usecases/content-backup.ts';
import {
  assertEmptyTarget,
  parseTarget,
  resolveGeneration,
  restoreGeneration,
} from '../../shared/restore/content-generation.ts';
import { commandDeps, confirmChange, printJson } from '../support/context.ts';

interface Opts {
  source: string;
  generation: string;
  to: string;
  json?: boolean;
  yes?: boolean;
  resume?: boolean;
}

export function registerContentRestore(restore: Command): void {
  restore
    .command('content')
    .description(
      'restore one generation of a content source (complete, as it was that day) under an empty S3 prefix',
    )
    .requiredOption('--source <name>', 'content source name from the policy (content[].name)')
    .option(
      '--generation <date|latest>',
      'the generation: its date (yyyy-mm-dd, policy time zone) or "latest"',
      'latest',
    )
    .requiredOption('--to <s3://bucket/prefix/>', 'where to put the objects (the prefix must be empty)')
    .option(
      '--resume',
      'continue a restore into --to that stopped: objects already there (same key and size) are kept, the rest copied',
    )
    .option('--json', 'print the result as JSON')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (opts: Opts, cmd: Command) => {
      const deps = commandDeps(cmd);
      // Everything is checked before anything is written.
      findSource(deps.policy, opts.source);
      const to = parseTarget(opts.to);
      const port = new S3ContentAdapter(deps.clients);
      const vault = vaultContent(port, deps.policy);
      const generation = await resolveGeneration(vault, deps.policy, opts.source, opts.generation);
      if (!opts.resume) await assertEmptyTarget(port, to);
      const index = await vault.generations.index(opts.source, generation);
      // The index has the counts; a generation written before sharding is one manifest to add up.
      const manifest = index ? [] : ((await vault.generations.manifest(opts.source, generation)) ?? []);
      const count = index ? index.objects : manifest.length;
      const bytes = index ? index.bytes : manifest.reduce((n, e) => n + e.size, 0);
      await confirmChange(
        `restore ${opts.source} generation ${generation}: ${count} object(s), ${bytes} bytes, to s3://${to.bucket}/${to.prefix}${opts.resume ? ' (resumed: objects already there are kept)' : ''}`,
        opts.yes,
      );
      // Shard by shard on the generation's plan, progress recorded in the vault under a restore id
      // of these arguments: `--resume` after a stop continues from there, never from zero.
      const id = `content-${createHash('sha256')
        .update(JSON.stringify([opts.source, generation, to]))
        .digest('hex')
        .slice(0, 16)}`;
      const outcome = await restoreGeneration(vault, port, deps.policy, {
        source: opts.source,
        generation,
        to,
        resume: opts.resume,
        id,
        store: new S3RestoreStore(deps.clients, deps.policy.vault.bucket, vaultLock(deps.policy)),
        run: { budgetMs: Number.POSITIVE_INFINITY },
      });
      if (opts.json) return printJson(outcome);
      console.log(formatTable([{ ...outcome }]));
      console.log(
        `\nrestored ${outcome.objects} object(s), ${outcome.bytes} bytes, of ${opts.source} as of ${generation} to ${outcome.to} in ${outcome.durationSeconds}s`,
      );
    });
}
