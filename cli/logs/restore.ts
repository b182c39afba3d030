// `kura restore logs --class <c> --host <h> --from <date> --to <date> --dest <dir|s3://bucket/prefix/>`:
// brings the logs of one host and class back from loose files and bundles,
// each file checked against its SHA-256, and says what it restored where.
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { LocalDirSink, type LogSink, S3Sink } from '../../shared/aws/log-sinks.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { sealedLogStore } from '../../shared/aws/seals.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { executeLogRestore, planLogRestore, validateRestoreRequest } from '../../shared/restore/log-files.ts';
import { commandDeps, confirmChange, printJson } from '../support/context.ts';

interface Opts {
  class: string;
  host: string;
  from: string;
  to: string;
  dest: string;
  json?: boolean;
  yes?: boolean;
}

export function sinkFor(dest: string, deps: Deps): LogSink {
  if (dest.startsWith('s3://')) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(dest);
    if (!m || (m[2] && !m[2].endsWith('/'))) {
      throw new InputError([
        `--dest: found "${dest}"; expected a folder or s3://bucket/prefix/ (ending in "/")`,
      ]);
    }
    return new S3Sink(deps.clients, m[1] as string, m[2] ?? '');
  }
  if (dest.trim() === '') throw new InputError(['--dest: empty; expected a folder or s3://bucket/prefix/']);
  return new LocalDirSink(dest);
}

export function registerLogsRestore(restore: Command): void {
  restore
    .command('logs')
    .description(
      'bring back the logs of one host and class for a range of days, from loose files and monthly bundles',
    )
    .requiredOption('--class <class>', 'log class from the policy (access, application, system, …)')
    .requiredOption('--host <host>', 'host name as the hosts upload it')
    .requiredOption('--from <date>', 'first day, yyyy-mm-dd (the day in the file name)')
    .requiredOption('--to <date>', 'last day, yyyy-mm-dd')
    .requiredOption('--dest <dir|s3://bucket/prefix/>', 'where to write <class>/<host>/<yyyy-mm-dd>/<file>')
    .option('--json', 'print the result as JSON')
    .option('-y, --yes', 'do not ask for confirmation (also allows asking S3 to restore archived bundles)')
    .action(async (opts: Opts, cmd: Command) => {
      const deps = commandDeps(cmd);
      const request = { logClass: opts.class, host: opts.host, from: opts.from, to: opts.to };
      validateRestoreRequest(deps.policy, request);
      const sink = sinkFor(opts.dest, deps);
      const store = new S3LogStore(deps.clients);
      const plan = await planLogRestore(
        deps.policy,
        sealedLogStore(store, deps.policy.vault.bucket),
        request,
      );
      const files = plan.loose.length + plan.bundles.reduce((n, b) => n + b.wanted.length, 0);
      if (files === 0)
        throw new InputError([
          `no ${opts.class} logs of ${opts.host} between ${opts.from} and ${opts.to} in s3://${deps.policy.vault.bucket}`,
        ]);
      await confirmChange(
        `restore ${files} ${opts.class} log file(s) of ${opts.host} (${opts.from}..${opts.to}; ${plan.loose.length} loose, ${plan.bundles.length} bundle(s)) to ${sink.describe()}`,
        opts.yes,
      );
      const summary = await executeLogRestore(deps.policy, store, plan, sink, {
        requestArchiveRestore: true,
      });
      if (opts.json) return printJson(summary);
      console.log(
        formatTable([
          {
            ...summary,
            bundlesRead: summary.bundlesRead.length,
            daysWithoutLogs: summary.daysWithoutLogs.length,
          },
        ]),
      );
      console.log(
        `\nrestored ${summary.files} file(s), ${summary.bytes} bytes, to ${summary.destination} in ${summary.durationSeconds}s; every file matched its SHA-256`,
      );
      if (summary.daysWithoutLogs.length)
        console.log(`days without logs: ${summary.daysWithoutLogs.join(', ')}`);
    });
}
