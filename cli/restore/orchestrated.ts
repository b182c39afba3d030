// `kura restore start|status|list|approve`: the orchestrated restore for
// on-call engineers. Builds the request (flags or --request file.json),
// validates it and runs the pre-flight (read-only), shows the plan, asks,
// then runs the restore state machine on AWS or --local, showing each step.
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListStateMachinesCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import { provisionIsolatedAccount } from '../../local/isolated-account.ts';
import { runRestoreLocally } from '../../local/restore.ts';
import { ensureVault } from '../../local/vault.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { bothZones } from '../../shared/policy/calendar.ts';
import { existsText, liveState } from '../../shared/restore/live-state.ts';
import {
  accessLines,
  cleanupLines,
  describeSelection,
  type RestoreReport,
} from '../../shared/restore/plan.ts';
import { parseRestoreRequest } from '../../shared/restore/request.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import {
  type ApprovalRecord,
  awsRestorePorts,
  planRestore,
  type RestoreState,
  readRecords,
} from '../../shared/usecases/restore.ts';
import { commandDeps, confirmChange, printJson, readJsonObject } from '../support/context.ts';

interface StartFlags {
  request?: string;
  id?: string;
  reason?: string;
  ticket?: string;
  database?: string;
  snapshot?: string;
  instance: string[];
  content: string[];
  logs: string[];
  at?: string;
  approval?: boolean;
  local?: boolean;
  yes?: boolean;
  json?: boolean;
  stage: string;
}

const collect = (v: string, acc: string[]) => [...acc, v];

/** The request from --request file.json, with flags layered on top. */
export function buildRequest(
  f: Omit<StartFlags, 'local' | 'yes' | 'json' | 'stage'>,
): Record<string, unknown> {
  let req: Record<string, unknown> = {};
  if (f.request) {
    req = readJsonObject(
      f.request,
      '--request',
      '{"reason": "...", "database": {"instance": "<id>", "snapshot": "latest"}}',
    );
  }
  if (f.id) req.id = f.id;
  if (f.reason) req.reason = f.reason;
  if (f.ticket) req.ticket = f.ticket;
  if (f.at) req.at = f.at;
  if (f.approval) req.approval = true;
  if (f.database)
    req.database = {
      instance: f.database,
      ...(f.snapshot ? { snapshot: f.snapshot } : f.at ? {} : { snapshot: 'latest' }),
    };
  const list = (k: string) => (Array.isArray(req[k]) ? (req[k] as unknown[]) : []);
  if (f.instance.length) {
    req.instances = [
      ...list('instances'),
      ...f.instance.map((s) => {
        const [instance, image] = s.split('=');
        return { instance, ...(image ? { image } : {}) };
      }),
    ];
  }
  if (f.content.length) {
    req.content = [
      ...list('content'),
      ...f.content.map((s) => {
        const [source, generation, ...prefix] = s.split(':');
        return {
          source,
          ...(generation ? { generation } : {}),
          ...(prefix.length ? { prefix: prefix.join(':') } : {}),
        };
      }),
    ];
  }
  if (f.logs.length) {
    req.logs = [
      ...list('logs'),
      ...f.logs.map((s) => {
        const [cls, host, from, to] = s.split(':');
        return { class: cls, host, from, ...(to ? { to } : {}) };
      }),
    ];
  }
  return req;
}

function planRows(plan: RestoreState['plan'], tz: string) {
  return plan.items.map((i) => ({
    phase: i.phase,
    item: `${i.class} ${i.source}`,
    asked: describeSelection(i.selection, tz),
    'recovery point': i.pitr ? 'temporary instance restored to that time' : i.recoveryPoint.id,
    'taken at': bothZones(i.recoveryPoint.time, tz),
    RTO: `${i.rtoMinutes} min`,
  }));
}

function reportRows(r: RestoreReport, tz: string) {
  return r.items.map((i) => ({
    item: `${i.class} ${i.source}`,
    status: i.status,
    'recovery point': i.recoveryPoint.id,
    'taken at': bothZones(i.recoveryPoint.time, tz),
    'endpoint / resources': i.endpoint ?? i.resources.map((x) => x.id).join(', '),
    took: i.durationSeconds === undefined ? '' : `${i.durationSeconds}s`,
    RTO: `${i.rtoMinutes} min${i.withinRto === false ? ' EXCEEDED' : ''}`,
  }));
}

async function stateMachineArn(deps: Deps, stage: string): Promise<string> {
  const name = `kura-restore-${stage}`;
  const sfn = deps.clients.get(SFNClient);
  let token: string | undefined;
  do {
    const r = await sfn.send(new ListStateMachinesCommand({ nextToken: token }));
    const hit = r.stateMachines?.find((m) => m.name === name);
    if (hit?.stateMachineArn) return hit.stateMachineArn;
    token = r.nextToken;
  } while (token);
  throw new InputError([
    `state machine ${name} is not deployed in ${deps.clients.region}; deploy kura (sls deploy --stage ${stage}) or use --local`,
  ]);
}

async function runOnAws(
  deps: Deps,
  request: unknown,
  requestId: string,
  arn: string,
): Promise<{ status: string; output?: unknown; cause?: string }> {
  const sfn = deps.clients.get(SFNClient);
  // A new execution name per attempt: re-running a request resumes from the vault records.
  const name = `${requestId}-${Date.now().toString(36)}`;
  const started = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify({ request }) }),
  );
  const exec = started.executionArn as string;
  process.stderr.write(`started ${exec}\n`);
  const seen = new Set<number>();
  for (;;) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn: exec }));
    let token: string | undefined;
    do {
      const h = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn: exec, nextToken: token, maxResults: 200 }),
      );
      for (const e of h.events ?? []) progressLine(e, seen);
      token = h.nextToken;
    } while (token);
    if (d.status !== 'RUNNING')
      return {
        status: d.status ?? 'UNKNOWN',
        output: d.output ? JSON.parse(d.output) : undefined,
        cause: d.cause,
      };
    await new Promise((r) => setTimeout(r, 5000));
  }
}

function progressLine(e: HistoryEvent, seen: Set<number>): void {
  if (e.id === undefined || seen.has(e.id)) return;
  seen.add(e.id);
  const t = e.timestamp?.toISOString().slice(11, 19) ?? '';
  if (e.type?.endsWith('StateEntered'))
    process.stderr.write(`  ${t} → ${e.stateEnteredEventDetails?.name}\n`);
  if (e.type === 'TaskFailed' || e.type === 'ExecutionFailed') {
    const f = e.taskFailedEventDetails ?? e.executionFailedEventDetails;
    process.stderr.write(`  ${t} ✗ ${f?.error ?? ''} ${f?.cause ?? ''}\n`);
  }
}

async function printOutcome(
  deps: Deps,
  requestId: string,
  status: string,
  cause: string | undefined,
  json: boolean | undefined,
): Promise<void> {
  const store = new S3RestoreStore(deps.clients, deps.policy.vault.bucket);
  const report = await store.get<RestoreReport>(requestId, 'report.json');
  if (json) {
    printJson({ requestId, status, ...(cause ? { cause } : {}), report });
  } else {
    process.stdout.write(`\nrestore ${requestId}: ${status}\n`);
    if (report) {
      process.stdout.write(`${formatTable(reportRows(report, deps.policy.timezone))}\n`);
      const access = accessLines(report);
      if (access.length)
        process.stdout.write(
          `\nHow to reach what was restored:\n${access.map((l) => `  ${l}`).join('\n')}\n`,
        );
      const cleanup = cleanupLines(report);
      if (cleanup.length)
        process.stdout.write(
          `\nTo clean up when no longer needed:\n${cleanup.map((c) => `  ${c}`).join('\n')}\n`,
        );
      for (const n of report.notes) process.stdout.write(`\n${n}`);
      process.stdout.write(`\nreport: ${store.location(requestId, 'report.md')} (and report.json)\n`);
    } else if (cause) {
      process.stdout.write(`${cause}\n`);
    }
  }
  if (status !== 'SUCCEEDED') process.exitCode = 1;
}

function registerStart(restore: Command): void {
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
      // Validate before the first AWS call: the vault check below (HeadBucket,
      // and CreateBucket when missing) must not run for a request that is refused.
      parseRestoreRequest(request, deps.policy, new Date());
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
      const planned = await planRestore(request, deps, new Date(), awsRestorePorts(deps), {
        ...(f.local || deps.isolated ? {} : { targetDeferred: 'give --isolated-profile, the isolated account administrator’s profile, to check them here' }),
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

function registerStatus(restore: Command): void {
  restore
    .command('status')
    .description(
      'where a restore stands: each item, its recovery point, time taken, and what exists now (read live)',
    )
    .argument('<id>', 'request id')
    .option('--json', 'print as JSON')
    .action(async (id: string, f: { json?: boolean }, cmd: Command) => {
      const deps = commandDeps(cmd);
      const tz = deps.policy.timezone;
      const store = new S3RestoreStore(deps.clients, deps.policy.vault.bucket);
      const state = await store.get<RestoreState>(id, 'state.json');
      if (!state)
        throw new InputError([
          `restore ${id}: not found in s3://${deps.policy.vault.bucket}/restores/; see kura restore list`,
        ]);
      const records = await readRecords(id, store);
      const report = await store.get<RestoreReport>(id, 'report.json');
      // What exists is read now from each account, not taken from the record.
      const live = await liveState(deps, report?.exists ?? []);
      const rows = state.plan.items.map((i) => {
        const r = records.find((x) => x.key === i.key);
        const mine = live.resources.filter((x) => (r?.restored?.resources ?? []).some((y) => y.id === x.id));
        return {
          item: `${i.class} ${i.source}`,
          status: r?.status ?? 'not started',
          stage: r?.stage ?? '',
          'recovery point': r?.recoveryPoint.id ?? i.recoveryPoint.id,
          attempts: r?.attempts ?? 0,
          took: r?.durationSeconds === undefined ? '' : `${r.durationSeconds}s`,
          endpoint: r?.restored?.endpoint ?? '',
          'exists now': mine.length
            ? `${mine.filter((x) => x.exists !== false).length} of ${mine.length}`
            : '-',
          error: r?.error ? `${r.error.name}: ${r.error.message}` : '',
        };
      });
      const existing = live.resources.filter((x) => x.exists !== false);
      if (f.json)
        return printJson({
          state: { ...state, request: undefined },
          items: records,
          report,
          live: live.resources,
        });
      process.stdout.write(
        `restore ${id}: ${state.status} (updated ${bothZones(state.updatedAt, tz)}); reason: ${state.plan.reason}\n${formatTable(rows)}\n`,
      );
      if (state.cleanup)
        process.stdout.write(
          `cleaned up ${bothZones(state.cleanup.at, tz)}: ${state.cleanup.removed} resource(s) removed, ${state.cleanup.remaining} remaining\n`,
        );
      if (live.resources.length)
        process.stdout.write(
          `\nresources now (read live): ${existing.length} of ${live.resources.length} exist\n${formatTable(
            live.resources.map((x) => ({
              resource: `${x.type} ${x.id}`,
              account: x.account,
              exists: existsText(x),
            })),
          )}\n`,
        );
      if (live.problem) process.stdout.write(`! ${live.problem}\n`);
      if (report) process.stdout.write(`report: ${store.location(id, 'report.md')}\n`);
      const approval = await store.get<ApprovalRecord>(id, 'approval.json');
      if (approval?.status === 'pending')
        process.stdout.write(
          `waiting for approval since ${bothZones(approval.requestedAt, tz)}: kura restore approve ${id}\n`,
        );
    });
}

function registerList(restore: Command): void {
  restore
    .command('list')
    .description('orchestrated restores recorded in the vault')
    .option('--json', 'print as JSON')
    .action(async (f: { json?: boolean }, cmd: Command) => {
      const deps = commandDeps(cmd);
      const store = new S3RestoreStore(deps.clients, deps.policy.vault.bucket);
      const rows: Record<string, unknown>[] = [];
      for (const id of await store.list()) {
        const s = await store.get<RestoreState>(id, 'state.json');
        if (!s) continue;
        rows.push({
          id,
          status: s.status,
          created: s.plan.createdAt,
          items: s.plan.items.map((i) => `${i.class} ${i.source}`).join(', '),
          reason: s.plan.reason,
        });
      }
      rows.sort((a, b) => String(b.created).localeCompare(String(a.created)));
      if (f.json) return printJson(rows);
      const tz = deps.policy.timezone;
      process.stdout.write(
        `${formatTable(rows.map((r) => ({ ...r, created: bothZones(String(r.created), tz) })))}\n`,
      );
    });
}

function registerApprove(restore: Command): void {
  restore
    .command('approve')
    .description('approve (or --reject) a restore waiting for a second person')
    .argument('<id>', 'request id')
    .option('--reject', 'reject instead of approving')
    .option('--by <name>', 'who decides (recorded)', process.env.USER ?? 'unknown')
    .option('--note <text>', 'why')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      async (id: string, f: { reject?: boolean; by: string; note?: string; yes?: boolean }, cmd: Command) => {
        const deps = commandDeps(cmd);
        const store = new S3RestoreStore(deps.clients, deps.policy.vault.bucket);
        const approval = await store.get<ApprovalRecord>(id, 'approval.json');
        if (approval?.status !== 'pending')
          throw new InputError([
            `restore ${id}: no approval pending (${approval?.status ?? 'never requested'})`,
          ]);
        const state = await store.get<RestoreState>(id, 'state.json');
        if (state) process.stderr.write(`${formatTable(planRows(state.plan, deps.policy.timezone))}\n`);
        await confirmChange(
          `${f.reject ? 'reject' : 'approve'} restore ${id} (${state?.plan.reason ?? ''})`,
          f.yes,
        );
        const decided: ApprovalRecord = {
          ...approval,
          status: f.reject ? 'rejected' : 'approved',
          decidedAt: new Date().toISOString(),
          by: f.by,
          ...(f.note ? { note: f.note } : {}),
        };
        if (approval.token) {
          const sfn = deps.clients.get(SFNClient);
          if (f.reject)
            await sfn.send(
              new SendTaskFailureCommand({
                taskToken: approval.token,
                error: 'ApprovalRejected',
                cause: `rejected by ${f.by}${f.note ? `: ${f.note}` : ''}`,
              }),
            );
          else
            await sfn.send(
              new SendTaskSuccessCommand({
                taskToken: approval.token,
                output: JSON.stringify({ approvedBy: f.by, at: decided.decidedAt }),
              }),
            );
        }
        await store.put(id, 'approval.json', { ...decided, token: undefined });
        process.stdout.write(`restore ${id}: ${decided.status} by ${f.by}\n`);
      },
    );
}

export function registerOrchestratedRestore(restore: Command): void {
  registerStart(restore);
  registerStatus(restore);
  registerList(restore);
  registerApprove(restore);
}
