// Restore (pre-flight): everything that would stop a restore half-way, checked
// before anything is created, and reported all at once. Read-only: describe
// and list calls, STS AssumeRole, KMS DescribeKey; never a create or modify.
import {
  type _InstanceType,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeAccountAttributesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import type { Clients } from '../aws/clients.ts';
import { describeAwsError, isAwsError } from '../aws/errors.ts';
import { bothZones } from '../domain/calendar.ts';
import { type KeyPort, keyAllowsAccount } from '../aws/kms.ts';
import { InputError } from '../runtime/errors.ts';
import { type NearestSnapshots, type PitrWindow, pitrProblem } from './database-pitr.ts';
import { isolationFindings, NETWORK_ROLE, ROLE_TAG } from './isolated-network.ts';
import type { PlanItem } from './plan.ts';

/** The restore would fail: every blocker is listed; nothing was created. */
export class PreflightError extends InputError {
  override name = 'PreflightError';
  constructor(readonly blockers: string[]) {
    super(blockers);
    this.message = `pre-flight found ${blockers.length} blocker(s); nothing was created:\n  - ${blockers.join('\n  - ')}`;
  }
}

export interface Quota {
  name: string;
  used: number;
  max: number;
}

/** What pre-flight reads; tests may wrap one to inject a tight quota. */
export interface PreflightPorts {
  keys: KeyPort;
  pitrWindow(instance: string): Promise<PitrWindow | undefined>;
  /** Quotas in the target account that a restore of `need` would consume; undefined when they cannot be read. */
  quotas(
    target: Clients,
    need: { dbInstances: number; dbSnapshots: number; vcpus: number },
  ): Promise<{ quotas: Quota[]; unreadable: string[] }>;
  /** Problems that make the target network not isolated (empty when isolated), or a note when none exists yet. */
  network(target: Clients): Promise<{ problems: string[]; note?: string }>;
  /** vCPUs the instances to restore need (from their source instance types). */
  vcpus(instances: string[]): Promise<number>;
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

// ------------------------------------------------------------ AWS adapters

async function rdsQuotas(target: Clients): Promise<{ quotas: Quota[]; unreadable: string[] }> {
  try {
    const r = await target.get(RDSClient).send(new DescribeAccountAttributesCommand({}));
    const quotas = (r.AccountQuotas ?? [])
      .filter((a) => a.AccountQuotaName === 'DBInstances' || a.AccountQuotaName === 'ManualSnapshots')
      .map((a) => ({
        name: a.AccountQuotaName as string,
        used: Number(a.Used ?? 0),
        max: Number(a.Max ?? 0),
      }));
    return { quotas, unreadable: [] };
  } catch (err) {
    // A refused or throttled read is a warning that names it; anything else is a fault.
    if (!isAwsError(err, 'accessDenied', 'throttled')) throw err;
    return { quotas: [], unreadable: [`RDS account quotas (${describeAwsError(err).slice(0, 120)})`] };
  }
}

const vcpuCache = new Map<string, number>();
async function vcpusOf(ec2: EC2Client, types: string[]): Promise<Map<string, number>> {
  const missing = [...new Set(types)].filter((t) => !vcpuCache.has(t));
  if (missing.length) {
    const r = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: missing as _InstanceType[] }));
    for (const t of r.InstanceTypes ?? [])
      if (t.InstanceType) vcpuCache.set(t.InstanceType, t.VCpuInfo?.DefaultVCpus ?? 2);
  }
  return new Map(types.map((t) => [t, vcpuCache.get(t) ?? 2]));
}

async function ec2Quota(target: Clients, need: number): Promise<{ quotas: Quota[]; unreadable: string[] }> {
  if (need === 0) return { quotas: [], unreadable: [] };
  let max: number;
  try {
    // Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, in vCPUs.
    const q = await target
      .get(ServiceQuotasClient)
      .send(new GetServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: 'L-1216C47A' }));
    max = q.Quota?.Value ?? Number.NaN;
  } catch (err) {
    if (!isAwsError(err, 'accessDenied', 'throttled')) throw err;
    return { quotas: [], unreadable: [`EC2 on-demand vCPU quota (${describeAwsError(err).slice(0, 120)})`] };
  }
  const ec2 = target.get(EC2Client);
  const running = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }],
    }),
  );
  const types = (running.Reservations ?? [])
    .flatMap((r) => r.Instances ?? [])
    .map((i) => i.InstanceType ?? 't3.micro');
  const per = types.length ? await vcpusOf(ec2, types) : new Map<string, number>();
  const used = types.reduce((n, t) => n + (per.get(t) ?? 2), 0);
  return { quotas: [{ name: 'OnDemandStandardVCpus', used, max }], unreadable: [] };
}

/** Read-only: the isolated network (found by its role tag) has no way out; none yet is fine (it is created isolated). */
export async function isolationProblems(target: Clients): Promise<{ problems: string[]; note?: string }> {
  const { Vpcs } = await target.get(EC2Client).send(
    new DescribeVpcsCommand({
      Filters: [
        { Name: `tag:${ROLE_TAG}`, Values: [NETWORK_ROLE] },
        { Name: 'tag:kura:managed', Values: ['true'] },
      ],
    }),
  );
  const vpcs = (Vpcs ?? []).map((v) => v.VpcId as string);
  if (vpcs.length === 0)
    return {
      problems: [],
      note: 'target network: none yet; the restore creates one with no route out and no ingress',
    };
  const problems: string[] = [];
  for (const vpc of vpcs) for (const f of await isolationFindings(target, vpc)) problems.push(`${vpc}: ${f}`);
  return { problems };
}

export function awsPreflightPorts(
  source: Clients,
  keys: KeyPort,
  pitr: (instance: string) => Promise<PitrWindow | undefined>,
): PreflightPorts {
  return {
    keys,
    pitrWindow: pitr,
    async quotas(target, need) {
      const rds = need.dbInstances ? await rdsQuotas(target) : { quotas: [], unreadable: [] };
      const ec2 = await ec2Quota(target, need.vcpus);
      return { quotas: [...rds.quotas, ...ec2.quotas], unreadable: [...rds.unreadable, ...ec2.unreadable] };
    },
    network: isolationProblems,
    async vcpus(instances) {
      const ec2 = source.get(EC2Client);
      try {
        const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: instances }));
        const types = (r.Reservations ?? [])
          .flatMap((x) => x.Instances ?? [])
          .map((i) => i.InstanceType ?? 't3.micro');
        const per = await vcpusOf(ec2, types);
        return types.reduce((n, t) => n + (per.get(t) ?? 2), 0);
      } catch (err) {
        // A source instance that is gone: assume 2 vCPUs each (the image restores it anyway).
        if (!isAwsError(err, 'notFound')) throw err;
        return instances.length * 2;
      }
    },
  };
}
