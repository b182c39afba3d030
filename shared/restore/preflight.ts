// Restore (pre-flight): everything that would stop a restore half-way, checked
// before anything is created, and reported all at once. Read-only: describe
// and list calls, STS AssumeRole, KMS DescribeKey; never a create or modify.
import type { Clients } from '../aws/clients.ts';
import type { PreflightPorts } from '../aws/preflight.ts';
import { keyAllowsAccount } from '../domain/key-access.ts';
import { bothZones } from '../policy/calendar.ts';
import { InputError } from '../runtime/errors.ts';
import { type NearestSnapshots, pitrProblem } from './database-pitr.ts';
import type { PlanItem } from './plan.ts';

export type { PreflightPorts, Quota } from '../aws/preflight.ts';

/** The restore would fail: every blocker is listed; nothing was created. */
export class PreflightError extends InputError {
  override name = 'PreflightError';
  constructor(readonly blockers: string[]) {
    super(blockers);
    this.message = `pre-flight found ${blockers.length} blocker(s); nothing was created:\n  - ${blockers.join('\n  - ')}`;
  }
}

export interface PreflightResult {
  blockers: string[];
  warnings: string[];
  checks: string[];
}

function kmsKeysOf(item: PlanItem): string[] {
  const d = item.recoveryPoint.details ?? {};
  const keys = new Set<string>();
  if (typeof d.kmsKeyId === 'string' && d.kmsKeyId) keys.add(d.kmsKeyId);
  for (const k of Array.isArray(d.kmsKeyIds) ? d.kmsKeyIds : []) if (typeof k === 'string' && k) keys.add(k);
  return [...keys];
}

export async function preflight(
  items: PlanItem[],
  ctx: {
    target: Clients | undefined;
    targetError?: string;
    /** Why the target is not checked here; its checks run in the state machine's Plan step. */
    targetDeferred?: string;
    targetAccountId: string;
    sourceRegion: string;
    timeZone?: string;
  },
  ports: PreflightPorts,
): Promise<PreflightResult> {
  const blockers: string[] = [];
  const warnings: string[] = [];
  const checks: string[] = [];

  // 1. The recovery points exist (resolution already found them); PITR times are in the window.
  for (const item of items.filter((i) => i.pitr)) {
    const problem = pitrProblem(
      item.source,
      await ports.pitrWindow(item.source),
      new Date(item.pitr?.time ?? ''),
      item.recoveryPoint.details?.nearest as NearestSnapshots | undefined,
      ctx.timeZone,
    );
    if (problem) blockers.push(problem);
    else
      checks.push(
        `database ${item.source}: ${bothZones(item.pitr?.time ?? '', ctx.timeZone ?? 'UTC')} is inside the point-in-time window`,
      );
  }

  // 2. The KMS keys can be used by the target account.
  for (const item of items) {
    for (const keyId of kmsKeysOf(item)) {
      try {
        const key = await ports.keys.describe(keyId, item.recoveryPoint.region);
        if (key.manager === 'AWS') {
          blockers.push(
            `${item.class} ${item.source}: ${item.recoveryPoint.id} is encrypted with an AWS managed key (${key.arn}), which cannot be shared with account ${ctx.targetAccountId}; re-encrypt with a customer-managed key`,
          );
        } else if (!keyAllowsAccount(key, ctx.targetAccountId)) {
          blockers.push(
            `${item.class} ${item.source}: key ${key.arn} does not allow account ${ctx.targetAccountId}; add it to the key policy (kms:Decrypt, kms:CreateGrant, kms:DescribeKey)`,
          );
        } else
          checks.push(`${item.class} ${item.source}: key ${key.arn} allows account ${ctx.targetAccountId}`);
      } catch (err) {
        blockers.push(
          `${item.class} ${item.source}: cannot read KMS key ${keyId}: ${(err as Error).message}`,
        );
      }
    }
  }

  // 3. The target account can be reached.
  const target = ctx.target;
  if (ctx.targetDeferred) {
    warnings.push(
      `target account ${ctx.targetAccountId}: quotas and isolation not checked here (${ctx.targetDeferred}); the state machine's Plan step checks them before anything is created`,
    );
    return { blockers, warnings, checks };
  }
  if (!target) {
    blockers.push(
      `target account ${ctx.targetAccountId}: cannot assume the restore role: ${ctx.targetError ?? 'unknown error'}`,
    );
    return { blockers, warnings, checks };
  }
  checks.push(`target account ${ctx.targetAccountId}: restore role assumed`);

  // 4. Quotas in the target allow it.
  const images = items.filter((i) => i.class === 'image');
  const need = {
    dbInstances: items.filter((i) => i.class === 'database').length,
    dbSnapshots: items.filter((i) => i.class === 'database').length,
    vcpus: images.length ? await ports.vcpus(images.map((i) => i.source)) : 0,
  };
  const q = await ports.quotas(target, need);
  for (const quota of q.quotas) {
    const add =
      quota.name === 'DBInstances'
        ? need.dbInstances
        : quota.name === 'ManualSnapshots'
          ? need.dbSnapshots
          : need.vcpus;
    if (add === 0) continue;
    if (quota.used + add > quota.max) {
      blockers.push(
        `target account ${ctx.targetAccountId}: quota ${quota.name} would be exceeded (${quota.used} used + ${add} needed > ${quota.max}); request an increase or clean up earlier restores`,
      );
    } else checks.push(`quota ${quota.name}: ${quota.used} + ${add} of ${quota.max}`);
  }
  for (const u of q.unreadable) warnings.push(`quota not checked: ${u}`);

  // 5. The target network is isolated.
  const net = await ports.network(target);
  for (const p of net.problems) blockers.push(`target network is not isolated: ${p}`);
  if (net.note) checks.push(net.note);
  else if (!net.problems.length) checks.push('target network: no route out, no ingress');
  return { blockers, warnings, checks };
}
