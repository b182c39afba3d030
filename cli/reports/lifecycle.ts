// `kura report lifecycle [--format md|json|html]`: for auditors, per class,
// the vault lifecycle rules the policy generates and, when the vault exists,
// whether the bucket carries exactly those rules.
import type { Command } from 'commander';
import { readBucketLifecycle } from '../../shared/aws/bucket-lifecycle.ts';
import {
  type ApiRule,
  lifecycleHtml,
  lifecycleMarkdown,
  lifecycleReport,
} from '../../shared/domain/lifecycle/report.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { commandDeps, printJson } from '../support/context.ts';

const FORMATS = ['md', 'json', 'html'];

export function registerLifecycleReport(report: Command): void {
  report
    .command('lifecycle')
    .description('vault lifecycle rules per class: what the policy generates and what the bucket carries')
    .option('--format <format>', 'md, json or html', 'md')
    .option('--offline', 'do not read the bucket; show only what the policy generates')
    .option('--check', 'exit with status 1 when a rule is missing on the bucket or differs from the policy')
    .action(async (opts: { format: string; offline?: boolean; check?: boolean }, cmd: Command) => {
      if (!FORMATS.includes(opts.format))
        throw new InputError([`--format: found "${opts.format}"; expected one of ${FORMATS.join(', ')}`]);
      const deps = commandDeps(cmd);
      const notes: string[] = [];
      let bucket: { exists: boolean; rules?: ApiRule[] } | undefined;
      if (!opts.offline) {
        try {
          bucket = await readBucketLifecycle(deps.clients, deps.policy.vault.bucket);
        } catch (err) {
          notes.push(
            `the bucket could not be read (${(err as Error).name}: ${(err as Error).message}); rules not checked`,
          );
        }
      }
      if (deps.clients.endpoint) {
        notes.push(
          `read from ${deps.clients.endpoint}: moto 5.2 does not keep ObjectSizeGreaterThan in lifecycle filters, so size filters show as differences there; on AWS they must match`,
        );
      }
      const rep = lifecycleReport(deps.policy, new Date(), bucket, notes);
      if (opts.format === 'json') return printJson(rep);
      console.log(opts.format === 'html' ? lifecycleHtml(rep) : lifecycleMarkdown(rep));
      const bad = rep.classes
        .flatMap((c) => c.rules)
        .filter((r) => r.onBucket === 'missing' || r.onBucket === 'differs');
      if (opts.check && bad.length) process.exitCode = 1;
    });
}
