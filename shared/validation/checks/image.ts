// Validation check (image): every instance launched from the image is
// running and passes both EC2 status checks (system and instance), and sits in
// the isolated network (no public address).
import { DescribeInstanceStatusCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { CheckResult } from '../../domain/validation-report.ts';
import type { RestoredItem } from '../../restore/types.ts';
import type { CheckContext, CheckOutcome } from './types.ts';

export async function checkImage(ctx: CheckContext, item: RestoredItem): Promise<CheckOutcome> {
  const ids = item.resources.filter((r) => r.type === 'AWS::EC2::Instance').map((r) => r.id);
  if (ids.length === 0)
    return { checks: [{ name: 'instance', status: 'fail', detail: 'the restore reported no EC2 instance' }] };
  const ec2 = ctx.target.clients.get(EC2Client, ctx.target.region);
  const checks: CheckResult[] = [];
  const status = await ec2.send(
    new DescribeInstanceStatusCommand({ InstanceIds: ids, IncludeAllInstances: true }),
  );
  const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  const instances = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  for (const id of ids) {
    const s = status.InstanceStatuses?.find((x) => x.InstanceId === id);
    const state = s?.InstanceState?.Name ?? 'unknown';
    const sys = s?.SystemStatus?.Status ?? 'unknown';
    const ins = s?.InstanceStatus?.Status ?? 'unknown';
    checks.push({
      name: `running ${id}`,
      status: state === 'running' ? 'pass' : 'fail',
      detail: `state ${state}`,
      value: state,
    });
    checks.push({
      name: `status checks ${id}`,
      status: sys === 'ok' && ins === 'ok' ? 'pass' : 'fail',
      detail: `system ${sys}, instance ${ins}`,
    });
    const inst = instances.find((i) => i.InstanceId === id);
    const subnetOk = !ctx.target.network || ctx.target.network.subnetIds.includes(inst?.SubnetId ?? '');
    checks.push({
      name: `isolated ${id}`,
      status: !inst?.PublicIpAddress && subnetOk ? 'pass' : 'fail',
      detail: `subnet ${inst?.SubnetId ?? '?'}${inst?.PublicIpAddress ? `, public address ${inst.PublicIpAddress}` : ', no public address'}`,
    });
  }
  return { checks };
}
