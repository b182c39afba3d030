// AWS adapter: what a restore's pre-flight reads (read-only: describe and
// list calls, Service Quotas, KMS DescribeKey): quotas in the target
// account, the vCPUs the instances to restore need, and whether the isolated
// network found there has a way out.
import {
  type _InstanceType,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeAccountAttributesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import type { Clients } from './clients.ts';
import { describeAwsError, isAwsError } from './errors.ts';
import { isolationFindings, NETWORK_ROLE, ROLE_TAG } from './isolated-network.ts';
import type { KeyPort } from './kms.ts';
import type { PitrWindow } from './rds-pitr.ts';

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
    // Long enough to keep the refused action, which an AccessDenied names after the caller's ARN.
    return { quotas: [], unreadable: [`RDS account quotas (${describeAwsError(err).slice(0, 300)})`] };
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
