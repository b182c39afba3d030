// Validation check (image): every instance launched from the image is
// running and passes both EC2 status checks (system and instance), and sits in
// the isolated network (no public address).
import type { CheckResult } from '../../domain/validation-report.ts';
import type { RestoredItem } from '../../restore/types.ts';
import type { CheckContext, CheckOutcome, ImageCheckAdapters } from './types.ts';

export async function checkImage(
  ctx: CheckContext<ImageCheckAdapters>,
  item: RestoredItem,
): Promise<CheckOutcome> {
  const ids = item.resources.filter((r) => r.type === 'AWS::EC2::Instance').map((r) => r.id);
  if (ids.length === 0)
    return { checks: [{ name: 'instance', status: 'fail', detail: 'the restore reported no EC2 instance' }] };
  const checks: CheckResult[] = [];
  for (const v of await ctx.ports.describeInstances(ctx.target, ids)) {
    const { id, state } = v;
    const sys = v.systemStatus;
    const ins = v.instanceStatus;
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
    const subnetOk = !ctx.target.network || ctx.target.network.subnetIds.includes(v.subnetId ?? '');
    checks.push({
      name: `isolated ${id}`,
      status: !v.publicIp && subnetOk ? 'pass' : 'fail',
      detail: `subnet ${v.subnetId ?? '?'}${v.publicIp ? `, public address ${v.publicIp}` : ', no public address'}`,
    });
  }
  return { checks };
}
