// Use case: the monthly validation. Each state of statemachines/validation.asl.yml
// calls one of these: plan (latest recovery point per class and source),
// restore (into the isolated account, through the class's RestoreStep),
// check, cleanup (always), report (verdict, hash chain, kura:validated tags).
// States pass small pointers; the plan and every item's record live in the
// vault under <reportsPrefix>validation/<runId>/.

import { CreateTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AddTagsToResourceCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Clients } from '../aws/clients.ts';
import { stamp } from '../domain/calendar.ts';
import { TAG } from '../domain/tags.ts';
import {
  buildReport,
  type CheckResult,
  CLASSES,
  type ItemOutcome,
  minutesBetween,
  renderHtml,
  rtoMinutesFor,
  serializeReport,
  sha256Hex,
  type ValidatedClass,
  type ValidationReport,
} from '../domain/validation-report.ts';
import type { Policy } from '../policy/schema.ts';
import { RUN_TAG, restoredName, unshareAfterRun } from '../restore/database.ts';
import { connectIsolated, prepareIsolatedTarget } from '../restore/isolated-network.ts';
import { listManagedInIsolated, stillExists } from '../restore/leftovers.ts';
import { restoreStep } from '../restore/run-steps.ts';
import type { CreatedResource, RecoveryPointRef, RestoreClass, RestoredItem } from '../restore/types.ts';
import { InputError, NotReadyError } from '../runtime/errors.ts';
import type { Deps } from '../runtime/lambda.ts';
import { errorInfo } from '../runtime/result.ts';
import { CLASS_CHECKS } from '../validation/checks/index.ts';
import type { CheckPorts } from '../validation/checks/types.ts';

export const FUNCTION_NAME = 'validation-step';

export interface PlannedItem {
  index: number;
  class: RestoreClass;
  source: string;
  recoveryPoint: RecoveryPointRef;
}

export interface ValidationPlan {
  runId: string;
  time: string;
  createdAt: string;
  sourceAccount: string;
  isolatedAccount: string;
  region: string;
  configured: Record<ValidatedClass, boolean>;
  items: PlannedItem[];
  /** Configured classes with nothing to validate, and why. */
  nothing: { class: RestoreClass; reason: string }[];
}

/** One item's record, rewritten by each state that touches it. */
export interface ItemRecord {
  index: number;
  class: RestoreClass;
  source: string;
  recoveryPoint: RecoveryPointRef;
  startedAt?: string;
  attempts: number;
  restored?: RestoredItem;
  restoreError?: { name: string; message: string };
  /** What a failed restore reported as created (cleanup removes it). */
  leftovers?: CreatedResource[];
  check?: { checks: CheckResult[]; achievedRpoMinutes?: number; error?: { name: string; message: string } };
  cleanup?: { status: 'done' | 'failed' | 'not-needed'; detail?: string; resources: string[]; at: string };
}

/** The pointer every Map iteration carries. */
export interface ItemPointer {
  runId: string;
  index: number;
  class: RestoreClass;
  source: string;
}

// ---------------------------------------------------------------- storage

export const runPrefix = (policy: Policy, runId: string) =>
  `${policy.vault.reportsPrefix}validation/${runId}/`;
/** Restore durations and checks are timed on the Clients' timer (what polls wait on), not the wall clock. */
const timerNow = (deps: Deps) => new Date(deps.clients.timer.now());
const planKey = (policy: Policy, runId: string) => `${runPrefix(policy, runId)}plan.json`;
const itemKey = (policy: Policy, runId: string, index: number) =>
  `${runPrefix(policy, runId)}items/${String(index).padStart(4, '0')}.json`;
export const reportKey = (policy: Policy, runId: string) => `${runPrefix(policy, runId)}report.json`;
export const reportHtmlKey = (policy: Policy, runId: string) => `${runPrefix(policy, runId)}report.html`;

export class VaultStore {
  constructor(
    private readonly clients: Clients,
    private readonly policy: Policy,
  ) {}

  private get s3(): S3Client {
    return this.clients.get(S3Client);
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.policy.vault.bucket, Key: key }));
      return await (r.Body?.transformToString('utf8') ?? '');
    } catch (err) {
      if (err instanceof NoSuchKey || (err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const t = await this.getText(key);
    return t === undefined ? undefined : (JSON.parse(t) as T);
  }

  /** Writes with the vault's Object Lock retention stated explicitly (evidence). */
  async put(key: string, body: string, contentType: string, now = new Date()): Promise<void> {
    const lock = this.policy.vault.objectLock;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.policy.vault.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ObjectLockMode: lock.mode,
        ObjectLockRetainUntilDate: new Date(now.getTime() + lock.days * 86_400_000),
        ChecksumAlgorithm: 'SHA256',
      }),
    );
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.put(key, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
  }

  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: this.s3 },
      { Bucket: this.policy.vault.bucket, Prefix: prefix },
    )) {
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    }
    return keys.sort();
  }
}

// ---------------------------------------------------------------- plan

export function runIdFor(time: Date, override?: string): string {
  const id = override ?? stamp(time);
  if (!/^[a-z0-9][a-z0-9-]{0,23}$/.test(id))
    throw new InputError([
      `runId: found "${id}"; expected 1-24 characters a-z, 0-9, - (default: the run time as yyyymmddHHMM)`,
    ]);
  return id;
}

export function configuredClasses(policy: Policy): Record<ValidatedClass, boolean> {
  return {
    database: policy.database !== undefined,
    image: policy.images !== undefined,
    content: policy.content.length > 0,
    logs: policy.logs !== undefined,
  };
}

export async function planValidation(
  deps: Deps,
  time: Date,
  runIdOverride?: string,
): Promise<{ plan: ValidationPlan; pointers: ItemPointer[] }> {
  const runId = runIdFor(time, runIdOverride);
  // The isolated account first: when it cannot be reached, nothing is created anywhere.
  // Then its network, key and bucket, once, before the restores fan out in parallel.
  const target = await prepareIsolatedTarget(deps);
  const configured = configuredClasses(deps.policy);
  const items: PlannedItem[] = [];
  const nothing: ValidationPlan['nothing'] = [];
  for (const cls of CLASSES) {
    if (!configured[cls]) continue;
    const step = await restoreStep(cls);
    const points = await step.list(deps, { before: time });
    const newest = new Map<string, RecoveryPointRef>();
    for (const p of points) {
      const seen = newest.get(p.source);
      if (!seen || p.time > seen.time) newest.set(p.source, p);
    }
    if (newest.size === 0)
      nothing.push({
        class: cls,
        reason: `no kura-managed ${cls} recovery point at or before ${time.toISOString()}`,
      });
    for (const rp of [...newest.values()].sort((a, b) => a.source.localeCompare(b.source))) {
      items.push({ index: items.length, class: cls, source: rp.source, recoveryPoint: rp });
    }
  }
  const plan: ValidationPlan = {
    runId,
    time: time.toISOString(),
    createdAt: new Date().toISOString(),
    sourceAccount: await deps.clients.accountId(),
    isolatedAccount: target.accountId,
    region: target.region,
    configured,
    items,
    nothing,
  };
  const store = new VaultStore(deps.clients, deps.policy);
  await store.putJson(planKey(deps.policy, runId), plan);
  for (const it of items) {
    const rec: ItemRecord = {
      index: it.index,
      class: it.class,
      source: it.source,
      recoveryPoint: it.recoveryPoint,
      attempts: 0,
    };
    await store.putJson(itemKey(deps.policy, runId, it.index), rec);
  }
  return { plan, pointers: items.map((i) => ({ runId, index: i.index, class: i.class, source: i.source })) };
}

// ---------------------------------------------------------------- restore, check, cleanup

async function loadItem(
  deps: Deps,
  p: ItemPointer,
): Promise<{ store: VaultStore; rec: ItemRecord; key: string }> {
  const store = new VaultStore(deps.clients, deps.policy);
  const key = itemKey(deps.policy, p.runId, p.index);
  const rec = await store.getJson<ItemRecord>(key);
  if (!rec)
    throw new InputError([
      `item ${p.index} of run ${p.runId}: no record at s3://${deps.policy.vault.bucket}/${key}`,
    ]);
  return { store, rec, key };
}

const isolatedWithNetwork = prepareIsolatedTarget;

export interface StepOptions {
  /** In-process wait before NotReadyError (the state machine retries). */
  maxWaitSeconds?: number;
  ports?: CheckPorts;
}

export async function restoreItem(
  deps: Deps,
  p: ItemPointer,
  opts: StepOptions = {},
): Promise<{ status: 'restored' | 'failed' }> {
  const { store, rec, key } = await loadItem(deps, p);
  if (rec.restored) return { status: 'restored' };
  rec.startedAt ??= timerNow(deps).toISOString();
  rec.attempts += 1;
  await store.putJson(key, rec);
  try {
    const target = await isolatedWithNetwork(deps);
    const step = await restoreStep(rec.class);
    const restored = await step.restore(deps, target, rec.recoveryPoint, {
      runId: p.runId,
      purpose: 'validation',
      kmsKeyArn: target.kmsKeyArn,
      maxWaitSeconds: opts.maxWaitSeconds ?? 600,
      // Content: a sample spread over the generation (all of it when the generation is smaller).
      sample: deps.policy.validation?.contentSample ?? 50,
    });
    rec.restored = restored;
    await store.putJson(key, rec);
    return { status: 'restored' };
  } catch (err) {
    const partial = (err as { resources?: CreatedResource[] }).resources;
    if (Array.isArray(partial)) rec.leftovers = partial;
    if (!(err instanceof NotReadyError)) rec.restoreError = errorInfo(err);
    await store.putJson(key, rec);
    throw err;
  }
}

export async function checkItem(
  deps: Deps,
  p: ItemPointer,
  opts: StepOptions = {},
): Promise<{ status: 'checked' | 'failed' }> {
  const { store, rec, key } = await loadItem(deps, p);
  if (!rec.restored)
    throw new Error(`item ${p.index} (${rec.class} ${rec.source}) was not restored; nothing to check`);
  try {
    const target = await isolatedWithNetwork(deps);
    const check = await CLASS_CHECKS[rec.class]();
    rec.check = await check({ deps, target, now: timerNow(deps), ports: opts.ports ?? {} }, rec.restored);
  } catch (err) {
    rec.check = { checks: [], error: errorInfo(err) };
  }
  await store.putJson(key, rec);
  return {
    status: rec.check.error || rec.check.checks.some((c) => c.status === 'fail') ? 'failed' : 'checked',
  };
}

function causeMessage(
  e: { Error?: string; Cause?: string } | undefined,
): { name: string; message: string } | undefined {
  if (!e) return undefined;
  let message = e.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: string };
    if (parsed.errorMessage) message = parsed.errorMessage;
  } catch {
    // a plain message
  }
  return { name: e.Error ?? 'Error', message };
}

/** Always runs (the state machine's Catch leads here): removes what the item's restore created. */
export async function cleanupItem(
  deps: Deps,
  p: ItemPointer,
  failure?: { Error?: string; Cause?: string },
): Promise<{ status: 'done' | 'failed' | 'not-needed' }> {
  const { store, rec, key } = await loadItem(deps, p);
  const failed = causeMessage(failure);
  if (failed && !rec.restoreError && !rec.restored) rec.restoreError = failed;
  if (failed && rec.restored && !rec.check) rec.check = { checks: [], error: failed };
  const resources = rec.restored?.resources ?? rec.leftovers ?? [];
  const at = new Date().toISOString();
  try {
    const target = await connectIsolated(deps);
    const step = await restoreStep(rec.class);
    if (resources.length > 0) await step.cleanup(target, resources);
    // A restore that died before it could say what it made: sweep this run's tagged databases of this source.
    if (rec.class === 'database') {
      const prefix = restoredName('validation', p.runId, rec.source);
      const strays = (await listManagedInIsolated(target, p.runId)).filter(
        (l) =>
          l.type.startsWith('AWS::RDS::') &&
          l.state !== 'deleting' &&
          l.id.startsWith(prefix) &&
          !resources.some((r) => r.id === l.id),
      );
      const stray = strays.map((l) => ({
        type: l.type,
        id: l.id,
        account: target.accountId,
        region: target.region,
        cleanup: '',
      }));
      if (stray.length > 0) await step.cleanup(target, stray);
      // The share of the source snapshot does not outlive the rehearsal (unless the policy shares permanently).
      await unshareAfterRun(deps, target.accountId, resources);
    }
    rec.cleanup = {
      status: resources.length ? 'done' : 'not-needed',
      resources: resources.map((r) => `${r.type} ${r.id}`),
      at,
    };
  } catch (err) {
    const e = errorInfo(err);
    rec.cleanup = {
      status: 'failed',
      detail: `${e.name}: ${e.message}`,
      resources: resources.map((r) => `${r.type} ${r.id}`),
      at,
    };
  }
  await store.putJson(key, rec);
  return { status: rec.cleanup.status };
}

// ---------------------------------------------------------------- report

function outcomeOf(rec: ItemRecord, plan: ValidationPlan, policy: Policy): ItemOutcome {
  const rto = policy.validation?.rto ?? { dataMinutes: 30, systemMinutes: 180, logsMinutes: 30 };
  const rp = rec.recoveryPoint;
  const out: ItemOutcome = {
    class: rec.class,
    source: rec.source,
    recoveryPoint: { id: rp.id, time: rp.time, region: rp.region },
    status: 'pass',
    checks: rec.check?.checks ?? [],
    cleanup: rec.cleanup
      ? { status: rec.cleanup.status, detail: rec.cleanup.detail, resources: rec.cleanup.resources }
      : { status: 'failed', detail: 'cleanup never ran', resources: [] },
    // A point written after the plan was made (a bundle finished meanwhile) is 0 old, not negative.
    recoveryPointAgeMinutes: Math.max(0, minutesBetween(rp.time, plan.time)),
  };
  if (rec.restored && rec.startedAt) {
    const rtoMinutes = rtoMinutesFor(rec.class, rto);
    const seconds = Math.max(
      0,
      Math.round((new Date(rec.restored.finishedAt).getTime() - new Date(rec.startedAt).getTime()) / 1000),
    );
    out.restore = {
      startedAt: rec.startedAt,
      finishedAt: rec.restored.finishedAt,
      durationSeconds: seconds,
      rtoMinutes,
      withinRto: seconds <= rtoMinutes * 60,
      endpoint: rec.restored.endpoint,
    };
  }
  out.achievedRpoMinutes = rec.check?.achievedRpoMinutes ?? out.recoveryPointAgeMinutes;
  if (rec.restoreError) {
    out.status = 'fail';
    out.reason = `restore failed: ${rec.restoreError.name}: ${rec.restoreError.message}`;
  } else if (rec.check?.error) {
    out.status = 'fail';
    out.reason = `check failed: ${rec.check.error.name}: ${rec.check.error.message}`;
  } else if (!rec.check && rec.restored) {
    out.status = 'fail';
    out.reason = 'the checks never ran';
  }
  return out;
}

/** Tags a passed recovery point kura:validated so pruning keeps the newest validated one. */
async function markValidated(deps: Deps, rp: RecoveryPointRef, at: string): Promise<boolean> {
  const tag = { Key: TAG.validated, Value: at };
  if (rp.class === 'database' && typeof rp.details?.arn === 'string') {
    await deps.clients
      .get(RDSClient, rp.region)
      .send(new AddTagsToResourceCommand({ ResourceName: rp.details.arn, Tags: [tag] }));
    return true;
  }
  if (rp.class === 'image') {
    await deps.clients
      .get(EC2Client, rp.region)
      .send(new CreateTagsCommand({ Resources: [rp.id], Tags: [tag] }));
    return true;
  }
  // Content generations and log bundles are vault objects under Object Lock: their
  // pruning keeps generations by count; the report is their evidence.
  return false;
}

export function alertTopicArn(policy: Policy, account: string): string {
  return (
    process.env.KURA_ALERT_TOPIC_ARN ||
    `arn:aws:sns:${policy.region}:${account}:${policy.notifications?.topicName ?? 'kura-alerts'}`
  );
}

export interface ReportResult {
  runId: string;
  verdict: 'PASS' | 'FAIL';
  subject: string;
  message: string;
  reportKey: string;
  htmlKey: string;
  alertTopicArn: string;
}

/** The newest report key before `key` (keys sort by run id), and its SHA-256. */
async function previousReport(
  store: VaultStore,
  policy: Policy,
  key: string,
): Promise<{ key: string; sha256: string } | null> {
  const keys = (await store.listKeys(`${policy.vault.reportsPrefix}validation/`)).filter(
    (k) => k.endsWith('/report.json') && k < key,
  );
  const prev = keys.at(-1);
  if (!prev) return null;
  const body = await store.getText(prev);
  return body === undefined ? null : { key: prev, sha256: sha256Hex(body) };
}

export async function reportValidation(
  deps: Deps,
  input: {
    runId: string;
    time: string;
    planError?: { Error?: string; Cause?: string };
    mapError?: { Error?: string; Cause?: string };
  },
): Promise<{ report: ValidationReport; result: ReportResult }> {
  const { policy } = deps;
  const store = new VaultStore(deps.clients, policy);
  const plan = await store.getJson<ValidationPlan>(planKey(policy, input.runId));
  const problems: string[] = [];
  const planFailure = causeMessage(input.planError);
  if (planFailure)
    problems.push(`plan failed, nothing was restored: ${planFailure.name}: ${planFailure.message}`);
  const mapFailure = causeMessage(input.mapError);
  if (mapFailure)
    problems.push(`the restore/check/cleanup loop failed: ${mapFailure.name}: ${mapFailure.message}`);
  const now = new Date().toISOString();
  const items: ItemOutcome[] = [];
  let leftovers: string[] = [];
  if (plan) {
    for (const n of plan.nothing)
      items.push({
        class: n.class,
        source: '-',
        status: 'skip',
        reason: n.reason,
        checks: [],
        cleanup: { status: 'not-needed', resources: [] },
      });
    const records: ItemRecord[] = [];
    for (const it of plan.items) {
      const rec = await store.getJson<ItemRecord>(itemKey(policy, input.runId, it.index));
      if (rec) records.push(rec);
    }
    // Proof that nothing is left: what this run tagged, and every resource a restore recorded.
    try {
      const target = await connectIsolated(deps);
      const tagged = await listManagedInIsolated(target, input.runId);
      leftovers = tagged.map(
        (l) => `${l.type} ${l.id}${l.state ? ` (${l.state})` : ''}${l.note ? `: ${l.note}` : ''}`,
      );
      for (const rec of records) {
        for (const r of rec.restored?.resources ?? rec.leftovers ?? []) {
          const name = `${r.type} ${r.id}`;
          if (leftovers.some((l) => l.startsWith(name))) continue;
          if (await stillExists(target, r)) leftovers.push(name);
        }
      }
    } catch (err) {
      const e = errorInfo(err);
      problems.push(`could not list what is left in the isolated account: ${e.name}: ${e.message}`);
    }
    for (const rec of records) items.push(outcomeOf(rec, plan, policy));
  } else if (!planFailure) {
    problems.push(`no plan found for run ${input.runId}`);
  }
  const report = buildReport({
    runId: input.runId,
    time: input.time,
    generatedAt: now,
    region: plan?.region ?? policy.region,
    sourceAccount: plan?.sourceAccount,
    isolatedAccount: plan?.isolatedAccount ?? policy.isolatedAccount?.accountId,
    configured: plan?.configured ?? configuredClasses(policy),
    items,
    leftovers,
    problems,
    previous: null,
    ...(deps.clients.endpoint ? { emulatorEndpoint: deps.clients.endpoint } : {}),
  });
  // Passed recovery points are tagged before the report is sealed, so the report can say so.
  for (const it of report.items) {
    if (it.status !== 'pass' || !plan) continue;
    const rec = plan.items.find((p) => p.class === it.class && p.source === it.source);
    if (!rec) continue;
    try {
      it.markedValidated = await markValidated(deps, rec.recoveryPoint, input.time);
    } catch (err) {
      report.warnings.push(
        `could not tag ${rec.recoveryPoint.id} ${TAG.validated}: ${errorInfo(err).message}`,
      );
    }
  }
  const key = reportKey(policy, input.runId);
  report.previous = await previousReport(store, policy, key);
  await store.put(key, serializeReport(report), 'application/json');
  const htmlKey = reportHtmlKey(policy, input.runId);
  await store.put(htmlKey, renderHtml(report, policy.timezone), 'text/html; charset=utf-8');
  const account = plan?.sourceAccount ?? (await deps.clients.accountId());
  const where = `s3://${policy.vault.bucket}/${htmlKey}`;
  return {
    report,
    result: {
      runId: input.runId,
      verdict: report.verdict,
      subject: `kura validation ${input.runId}: ${report.verdict}`.slice(0, 99),
      message: `${report.summary}\n\nReport: ${where}\n`.slice(0, 200_000),
      reportKey: key,
      htmlKey,
      alertTopicArn: alertTopicArn(policy, account),
    },
  };
}

/** Every validation report in run order, for `kura report validation` and its --verify. */
export async function listReports(deps: Deps): Promise<{ key: string; body: string }[]> {
  const store = new VaultStore(deps.clients, deps.policy);
  const keys = (await store.listKeys(`${deps.policy.vault.reportsPrefix}validation/`)).filter((k) =>
    k.endsWith('/report.json'),
  );
  const out: { key: string; body: string }[] = [];
  for (const key of keys) out.push({ key, body: (await store.getText(key)) ?? '' });
  return out;
}

export { RUN_TAG };
