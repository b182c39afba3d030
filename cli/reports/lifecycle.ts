// `kura report lifecycle [--format md|table|json|html] [--prices file] [--check]`:
// for auditors, per class, the vault lifecycle rules the policy generates and
// whether the bucket carries exactly those; the vault's protections (versioning,
// Object Lock, KMS key, public access block, bucket policy) against the
// policy; and the projected storage cost per class at stated prices.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import { driftFindings, lifecycleHtml, lifecycleMarkdown } from '../../shared/domain/lifecycle/report.ts';
import { fmtBytes, fmtMoney, parsePrices, STATED_PRICES } from '../../shared/domain/reports/cost.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { lifecycleAudit } from '../../shared/usecases/report-lifecycle.ts';
import { commandDeps, printJson } from '../support/context.ts';
import { lifecyclePorts } from '../../shared/edge/report-ports.ts';

const FORMATS = ['md', 'table', 'json', 'html'];

function loadPrices(file: string | undefined) {
  if (!file) return STATED_PRICES;
  try {
    return parsePrices(JSON.parse(readFileSync(file, 'utf8')), file);
  } catch (err) {
    throw new InputError([`--prices: ${(err as Error).message}`]);
  }
}

export function registerLifecycleReport(report: Command): void {
  report
    .command('lifecycle')
    .description(
      'vault lifecycle rules and protections against the policy, and projected storage cost per class',
    )
    .option('--format <format>', FORMATS.join(', '), 'md')
    .option('--offline', 'do not read the bucket; show only what the policy generates')
    .option(
      '--prices <file>',
      'a price table (JSON, same shape as the stated one in --format json) instead of the stated prices',
    )
    .option('--check', 'exit with status 1 when a protection or rule on the bucket differs from the policy')
    .action(
      async (opts: { format: string; offline?: boolean; prices?: string; check?: boolean }, cmd: Command) => {
        if (!FORMATS.includes(opts.format))
          throw new InputError([`--format: found "${opts.format}"; expected one of ${FORMATS.join(', ')}`]);
        const deps = commandDeps(cmd);
        const endpoint = deps.clients.endpoint;
        const rep = await lifecycleAudit(deps, lifecyclePorts(deps), {
          now: new Date(),
          offline: opts.offline,
          prices: loadPrices(opts.prices),
          // The emulator is reached over plain HTTP, where the TLS-only deny would lock every local run
          // out: its vault goes without a bucket policy (local/vault.ts). On AWS the stack applies it.
          notes: endpoint?.startsWith('http://')
            ? [
                `read from ${endpoint} over plain HTTP: a vault there has no TLS-only bucket policy, so the bucket policy checks fail; on AWS they must pass`,
              ]
            : [],
        });
        const drift = driftFindings(rep);
        if (opts.check && drift.length) process.exitCode = 1;
        if (opts.format === 'json') return printJson(rep);
        if (opts.format === 'md') return console.log(lifecycleMarkdown(rep));
        if (opts.format === 'html') return void process.stdout.write(lifecycleHtml(rep));
        console.log(`vault ${rep.bucket}: ${rep.vault}\n`);
        for (const e of rep.exposure) console.log(`EXPOSURE: ${e}\n`);
        if (rep.drift) {
          console.log(
            formatTable(
              rep.drift.map((d) => ({
                check: d.check,
                expected: d.expected,
                actual: d.actual,
                result: d.ok ? 'ok' : 'DRIFT',
              })),
            ),
          );
        }
        console.log(
          `\n${formatTable(rep.classes.flatMap((c) => c.rules.map((r) => ({ class: c.name, rule: r.id, onBucket: r.onBucket, differences: r.differences.join('; ') }))))}`,
        );
        const c = rep.costs;
        if (c) {
          console.log(
            `\nprojected storage cost (${c.prices.currency}/month; prices STATED as of ${c.prices.asOf}, not fetched):`,
          );
          console.log(
            formatTable(
              c.rows.map((r) => ({
                class: r.name,
                volumeNow: fmtBytes(r.bytesNow),
                monthlyNow: fmtMoney(r.monthlyNow, c.prices.currency),
                monthlySteady: fmtMoney(r.monthlySteady, c.prices.currency),
              })),
            ),
          );
        }
        console.log(drift.length ? `\n${drift.length} drift(s):\n  - ${drift.join('\n  - ')}` : '\nno drift');
        for (const n of rep.notes) console.log(`note: ${n}`);
      },
    );
}
