// `kura verify content --source <name> [--generation <date>] [--sample N|--all]`:
// re-reads vault objects by version id and compares size and SHA-256 with the
// manifest. Exits non-zero when any object is missing or differs.
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';
import { InputError, KuraError } from '../../shared/runtime/errors.ts';
import { resolveGeneration, verifyGeneration } from '../../shared/restore/content-generation.ts';
import { commandDeps, printJson } from '../support/context.ts';

interface Opts {
  source: string;
  generation: string;
  sample?: string;
  all?: boolean;
  json?: boolean;
}

export class VerifyFailedError extends KuraError {
  override name = 'VerifyFailedError';
}

export function registerContentVerify(verify: Command): void {
  verify
    .command('content')
    .description('re-read a content generation from the vault and compare every checksum with its manifest')
    .requiredOption('--source <name>', 'content source name from the policy (content[].name)')
    .option('--generation <date|latest>', 'the generation (yyyy-mm-dd) or "latest"', 'latest')
    .option(
      '--sample <n>',
      'check n objects spread over the generation (default: validation.contentSample, or 50)',
    )
    .option('--all', 'check every object')
    .option('--json', 'print the report as JSON')
    .action(async (opts: Opts, cmd: Command) => {
      if (opts.all && opts.sample)
        throw new InputError(['--sample and --all: expected one of them, not both']);
      const sample = opts.sample === undefined ? undefined : Number(opts.sample);
      if (sample !== undefined && (!Number.isInteger(sample) || sample < 1)) {
        throw new InputError([`--sample: found "${opts.sample}"; expected a positive whole number`]);
      }
      const deps = commandDeps(cmd);
      const vault = vaultContent(new S3ContentAdapter(deps.clients), deps.policy);
      const generation = await resolveGeneration(vault, deps.policy, opts.source, opts.generation);
      const report = await verifyGeneration(vault, deps.policy, {
        source: opts.source,
        generation,
        sample: opts.all ? undefined : (sample ?? deps.policy.validation?.contentSample ?? 50),
        // In one process, shard by shard, as long as it takes (no Lambda time limit here).
        run: { budgetMs: Number.POSITIVE_INFINITY },
      });
      if (opts.json) printJson(report);
      else {
        console.log(
          `${report.source} generation ${report.generation}: checked ${report.checked} of ${report.objects} object(s), ${report.bytesRead} bytes read`,
        );
        if (report.failures.length) console.log(formatTable(report.failures.map((f) => ({ ...f }))));
      }
      if (!report.ok)
        throw new VerifyFailedError(
          `${report.failures.length} object(s) of ${report.source} ${report.generation} failed verification`,
        );
      if (!opts.json) console.log('every object checked matches its manifest checksum');
    });
}
