// Demo step (image class), on AWS's timing (an image is pending for half an
// hour, so it is copied, shared and counted for pruning by the run after the
// one that took it): two tagged servers and an untagged one; the weekly
// image schedule over the simulated weeks, an on-demand image after a
// configuration change (with its readable diff), a launch template that keeps
// an old image alive, an operator's lookalike image that is never touched, DR
// copies and sharing with the isolated account.
import {
  CreateImageCommand,
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { amiBackup as run } from '../iam/functions.ts';
import { Ec2ImageAdapter } from '../../shared/aws/ec2-images.ts';
import { occurrences } from '../../shared/domain/schedule-occurrences.ts';
import { isManaged, TAG } from '../../shared/domain/tags.ts';
import { addDays, localDate } from '../../shared/policy/calendar.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { drTarget } from '../../shared/usecases/ami-backup.ts';
import { ensureVault } from '../vault.ts';
import type { DemoContext, DemoStep } from './types.ts';

const DEMO_GENERATIONS = 2;
/** How far back a period with no scheduled image run looks for the last one (a month of a weekly schedule). */
const LAST_RUN_WITHIN_DAYS = 31;

async function seed(ctx: DemoContext, policy: Policy) {
  const ec2 = ctx.deps.clients.get(EC2Client);
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.80.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.80.1.0/24' }));
  const web = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: 'shop-web', Description: 'shop web', VpcId: vpcId }),
  );
  const admin = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: 'shop-admin', Description: 'shop admin', VpcId: vpcId }),
  );
  const launch = async (name: string, tagged: boolean) => {
    const tags = [
      { Key: 'Name', Value: name },
      { Key: 'app', Value: 'shop' },
    ];
    if (tagged) tags.push({ Key: policy.selector.tagKey, Value: policy.selector.tagValue });
    const r = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 't3.small',
        SubnetId: subnet.Subnet?.SubnetId,
        SecurityGroupIds: [web.GroupId ?? ''],
        UserData: Buffer.from(`#!/bin/sh\nhostnamectl set-hostname ${name}\n`).toString('base64'),
        TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
      }),
    );
    return r.Instances?.[0]?.InstanceId ?? '';
  };
  return {
    web1: await launch('shop-web-1', true),
    web2: await launch('shop-web-2', true),
    scratch: await launch('scratch', false),
    adminSg: admin.GroupId ?? '',
  };
}

export const imagesDemo: DemoStep = {
  title: 'Images: weekly and on-demand AMIs, configuration records, DR copies, sharing, pruning',
  async run(ctx) {
    const base = ctx.deps.policy;
    const expr = base.schedules['ami-backup'];
    if (!base.images || !expr)
      return { ok: true, summary: 'no images section or ami-backup schedule in the policy' };
    // Few weeks fit in a demo: keep 2 generations so that pruning shows.
    const policy: Policy = { ...base, images: { ...base.images, generations: DEMO_GENERATIONS } };
    const deps = { ...ctx.deps, policy };
    const { clients } = deps;
    // A period shorter than the schedule's (`--days 2`, as docs/runbook.md runs it, with a
    // weekly schedule) still shows the last scheduled run, as the logs step shows the last
    // bundle run: anchored on the schedule, not on today's weekday.
    const inPeriod = occurrences(expr, policy.timezone, ctx.from, ctx.to);
    const times = inPeriod.length
      ? inPeriod
      : occurrences(expr, policy.timezone, addDays(ctx.to, -LAST_RUN_WITHIN_DAYS), ctx.to).slice(-1);
    // The estate exists before the first run.
    if (times[0]) ctx.clock.set(new Date(times[0].getTime() - 3_600_000));
    await ensureVault(clients, policy);
    const estate = await seed(ctx, policy);
    ctx.log(
      `estate: shop-web-1 ${estate.web1}, shop-web-2 ${estate.web2} (tagged), scratch ${estate.scratch} (untagged)`,
    );
    ctx.log(
      `images.generations: ${DEMO_GENERATIONS} for the demo (policy: ${base.images.generations}); reboot: ${policy.images?.reboot ? 'yes' : 'no (crash-consistent)'}`,
    );

    const ec2 = clients.get(EC2Client);
    // An operator's own image named like kura's: it must survive.
    const lookalikeName = `kura-${estate.web1}-200001010000`;
    const lookalike = await ec2.send(
      new CreateImageCommand({ InstanceId: estate.web1, Name: lookalikeName, NoReboot: true }),
    );

    const onDemandAt =
      times.length > 1 ? new Date(((times[0]?.getTime() ?? 0) + (times[1]?.getTime() ?? 0)) / 2) : undefined;
    const rows: Record<string, unknown>[] = [];
    const results: RunResult[] = [];
    let firstImage: string | undefined;
    const record = (label: string, time: Date, result: RunResult) => {
      results.push(result);
      const sum = (k: string) =>
        result.targets.reduce((n, t) => n + ((t[k] as unknown[] | undefined)?.length ?? 0), 0);
      rows.push({
        [`time (${policy.timezone})`]: `${localDate(time, policy.timezone)} ${label}`,
        created: result.metrics.filter((m) => m.name === 'ImagesCreated').length,
        pruned: sum('pruned'),
        snapshotsDeleted: sum('deletedSnapshots'),
        copiedToDr: sum('copied'),
        shared: sum('shared'),
        ok: result.ok,
      });
    };
    for (const [i, time] of times.entries()) {
      if (onDemandAt && i === 1) {
        await ec2.send(
          new ModifyInstanceAttributeCommand({
            InstanceId: estate.web1,
            InstanceType: { Value: 't3.large' },
          }),
        );
        await ec2.send(
          new ModifyInstanceAttributeCommand({ InstanceId: estate.web1, Groups: [estate.adminSg] }),
        );
        ctx.clock.set(onDemandAt);
        const od = (await run(
          syntheticScheduledEvent(onDemandAt, { instance: estate.web1, reason: 'after nginx upgrade' }),
          deps,
        )) as RunResult;
        record('on demand', onDemandAt, od);
        ctx.log(
          `on-demand image of shop-web-1 after a change ("after nginx upgrade"); what changed since the previous image:`,
        );
        for (const line of (od.targets[0]?.changes as string[] | undefined) ?? []) ctx.log(`  - ${line}`);
      }
      // Each run at its scheduled time: AWS has finished the images earlier runs started.
      ctx.clock.set(time);
      const result = (await run(syntheticScheduledEvent(time), deps)) as RunResult;
      record('weekly', time, result);
      if (i === 0) {
        firstImage = result.targets.find((t) => t.target === estate.web2)?.imageId as string | undefined;
        // A launch template still launches web-2's first image: pruning must keep it.
        await ec2.send(
          new CreateLaunchTemplateCommand({
            LaunchTemplateName: `shop-web-2-${Date.now()}`,
            LaunchTemplateData: { ImageId: firstImage },
          }),
        );
      }
    }
    ctx.table(rows);
    const adapter = new Ec2ImageAdapter(clients);
    const images = [
      ...(await adapter.listImages(estate.web1, `kura-${estate.web1}-`)),
      ...(await adapter.listImages(estate.web2, `kura-${estate.web2}-`)),
    ].sort((a, b) => a.name.localeCompare(b.name));
    ctx.log('images now:');
    ctx.table(
      images.map((i) => ({
        image: i.name,
        id: i.id,
        managed: isManaged(i.tags),
        reason: i.tags[TAG.reason] ?? '',
        snapshots: i.snapshotIds.join(', '),
      })),
    );
    const dr = drTarget(policy);
    if (dr) ctx.log(`DR copies in ${dr.region}: ${(await adapter.listManagedImages(dr.region)).length}`);
    const last = results.at(-1);
    const kept = last?.targets.flatMap((t) => t.actions.filter((a) => a.startsWith('kept'))) ?? [];
    for (const k of kept) ctx.log(k);
    const ids = new Set(images.map((i) => i.id));
    const lookalikeKept = ids.has(lookalike.ImageId ?? '');
    const inUseKept = firstImage === undefined || times.length <= DEMO_GENERATIONS || ids.has(firstImage);
    const failures = results.filter((r) => !r.ok).length;
    return {
      ok: failures === 0 && lookalikeKept && inUseKept,
      summary: `${results.length} runs (${failures} failed), ${images.filter((i) => isManaged(i.tags)).length} kura images kept; operator lookalike ${lookalikeKept ? 'kept' : 'LOST'}; image in a launch template ${inUseKept ? 'kept' : 'LOST'}`,
    };
  },
};
