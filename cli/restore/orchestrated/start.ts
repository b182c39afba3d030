// `kura restore start`: validates and plans the request (read only), shows
// the plan, asks, then runs the restore state machine on AWS or --local.
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { formatTable } from '../../../local/demo/format.ts';
import { provisionIsolatedAccount } from '../../../local/isolated-account.ts';
import { runRestoreLocally } from '../../../local/restore.ts';
import { ensureVault } from '../../../local/vault.ts';
import { bothZones } from '../../../shared/policy/calendar.ts';
import { awsRestorePorts } from '../../../shared/edge/restore-ports.ts';
import { parseRestoreRequest } from '../../../shared/restore/request.ts';
import { planRestore } from '../../../shared/usecases/restore.ts';
import { commandDeps, confirmChange } from '../../support/context.ts';
import { buildRequest, collect, type StartFlags } from './request-flags.ts';
import { planRows } from './rows.ts';
import { printOutcome, runOnAws, stateMachineArn } from './run-on-aws.ts';

export function registerStart(restore: Command): void {
  restore
    .command('start')
    .description('restore a consistent set (database, servers, content, logs) into the isolated account')
    .option(
      '--request <file>',
      'the request as JSON: {"reason": "...", "database": {"instance": "<id>", "snapshot": "latest"}, "instances": [...], "content": [...], "logs": [...], "at": "<ISO>"}',
    )
    .option('--id <id>', 'request id (default: derived from the request; the same id resumes)')
    .option('--reason <text>', 'why (recorded on everything restored)')
    .option('--ticket <id>', 'incident or change ticket')
    .option('--database <id>', 'RDS instance to restore')
    .option('--snapshot <id|latest|ISO>', 'snapshot id, "latest", or a point in time (PITR)')
    .option('--instance <i-id[=ami-id|latest]>', 'server to restore from its image (repeatable)', collect, [])
    .option(
      '--content <source[:yyyy-mm-dd[:prefix]]>',
      'content generation to restore (repeatable)',
      collect,
      [],
    )
    .option('--logs <class:host:from[:to]>', 'logs to restore, dates yyyy-mm-dd (repeatable)', collect, [])
    .option('--at <ISO>', 'for every class, the recovery point closest before this time')
    .option('--approval', 'wait for a second person (kura restore approve <id>) before creating anything')
    .option('--local', 'run the state machine in this process instead of on AWS')
    .option('--stage <stage>', 'deployed stage (AWS runs)', 'prod')
    .option('--json', 'print the result as JSON')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (f: StartFlags, cmd: Command) => {
      const deps = commandDeps(cmd);
      const request = buildRequest(f);
      // The run's time as the state machine's Plan will see it (the Clients' clock: AWS's
      // time on AWS, the simulated clock of a local run), so both judge the request alike.
      const now = new Date(deps.clients.timer.now());
      // Validate before the first AWS call: the vault check below (HeadBucket,
      // and CreateBucket when missing) must not run for a request that is refused.
      parseRestoreRequest(request, deps.policy, now);
      // On a local emulator the vault may not exist yet (on AWS the stack owns it).
      if (f.local && deps.clients.endpoint) {
        const exists = await deps.clients
          .get(S3Client)
          .send(new HeadBucketCommand({ Bucket: deps.policy.vault.bucket }))
          .then(
            () => true,
            () => false,
          );
        if (!exists) await ensureVault(deps.clients, deps.policy);
        // What deploy/isolated-account.yml would have made there (the access route's instance profile).
        await provisionIsolatedAccount(deps);
      }
      // Validation and pre-flight: read-only, every problem at once.
      // On AWS the isolated side is checked here only with the operator's own credentials for it.
      const planned = await planRestore(request, deps, now, awsRestorePorts(deps), {
        ...(f.local || deps.isolated
          ? {}
          : {
              targetDeferred:
                'give --isolated-profile, the isolated account administrator’s profile, to check them here',
            }),
      });
      const p = planned.plan;
      process.stderr.write(
        `restore ${p.requestId}${planned.resumed ? ' (resuming the recorded plan)' : ''} into account ${p.target.accountId} (${p.target.region})\n`,
      );
      process.stderr.write(
        `reason: ${p.reason}${p.ticket ? ` [${p.ticket}]` : ''}${p.at ? `; consistent at ${bothZones(p.at, deps.policy.timezone)}` : ''}\n`,
      );
      process.stderr.write(`${formatTable(planRows(p, deps.policy.timezone))}\n`);
      for (const c of planned.preflight.checks) process.stderr.write(`  ✓ ${c}\n`);
      for (const w of [
        ...planned.preflight.warnings,
        ...p.warnings.filter((w) => !planned.preflight.warnings.includes(w)),
      ])
        process.stderr.write(`  ! ${w}\n`);
      // Everything that can refuse the restore is checked before the question: a deployed state machine too.
      const arn = f.local ? undefined : await stateMachineArn(deps, f.stage);
      await confirmChange(
        `restore ${p.items.length} item(s) ${f.local ? 'locally' : 'on AWS'} into the isolated account ${p.target.accountId}`,
        f.yes,
      );
      if (f.local) {
        const entered = new Map<string, number>();
        const outcome = await runRestoreLocally(request, {
          deps,
          onEvent: (e) => {
            if (e.type === 'StateEntered' && e.state) {
              entered.set(e.state, Date.now());
              process.stderr.write(`  → ${e.state}\n`);
            }
            if (
              e.type === 'StateExited' &&
              e.state &&
              entered.has(e.state) &&
              /Item$|^Plan$|^Report/.test(e.state)
            ) {
              process.stderr.write(
                `  ✓ ${e.state} (${((Date.now() - (entered.get(e.state) ?? Date.now())) / 1000).toFixed(1)}s)\n`,
              );
            }
            if (e.type === 'ExecutionFailed') process.stderr.write(`  ✗ ${e.error ?? ''} ${e.cause ?? ''}\n`);
          },
          onApprovalPending: (id) =>
            process.stderr.write(
              `  … waiting for approval: another engineer runs \`kura restore approve ${id}\`\n`,
            ),
        });
        await printOutcome(deps, p.requestId, outcome.status, outcome.cause, f.json);
        return;
      }
      const out = await runOnAws(deps, request, p.requestId, arn as string);
      await printOutcome(deps, p.requestId, out.status, out.cause, f.json);
    });
}
