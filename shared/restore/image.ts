// Restore step (image class): kura's machine images of a server, newest
// first (with sources: the backup account's copies, from the server's source
// account, named by the request when ambiguous); a restore shares the image and its snapshots with the isolated
// account (after the same KMS pre-flight as the backup) and launches it there
// in a subnet with no route out and a security group with no ingress, with no
// user data and no instance profile: nothing of production's identity. Its
// volumes are re-encrypted with the isolated account's key, tagged at launch
// and deleted with the instance, so that cleanup (termination) leaves nothing.
// Resumable: the instance carries the run id, so a retried invocation finds it
// and waits on. Cleanup terminates only kura-managed instances.

import type { Clients } from '../aws/clients.ts';
import type { ImagePort, MachineImage } from '../aws/ec2-images.ts';
import type { ImageRestorePorts, IsolatedInstancesPort } from '../aws/restore-ports.ts';
import { configRecordKey, parseConfigurationRecord } from '../domain/config-record.ts';
import { sharingBlockers } from '../domain/image-sharing.ts';
import { isManaged, managedTags, TAG, type TagMap, taggedTime } from '../domain/tags.ts';
import { InputError, NotReadyError } from '../runtime/errors.ts';
import type { Deps } from '../aws/deps.ts';
import { drTarget, isSelected } from '../domain/selection.ts';
import { removeEach } from './cleanup.ts';
import { restoredName } from '../domain/naming.ts';
import { originOf, sourceAccountOf } from './source-account.ts';
import { RUN_TAG } from '../domain/isolated-account.ts';
import { RestoreFailedError } from './database.ts';
import type {
  CreatedResource,
  IsolatedTarget,
  RecoveryPointRef,
  RestoredItem,
  RestoreStep,
} from './types.ts';

export interface ImageRestoreOptions {
  runId: string;
  purpose?: 'validation' | 'restore';
  /** Wait in-process this long for the instance to run, then NotReadyError (the state machine retries). */
  maxWaitSeconds?: number;
  pollSeconds?: number;
  /** Instance type of the restored server (default: the one in the image's configuration record, else t3.micro). */
  instanceType?: string;
}

function options(raw: Record<string, unknown> | undefined): ImageRestoreOptions {
  const runId = typeof raw?.runId === 'string' ? raw.runId : '';
  if (!/^[a-z0-9-]{1,24}$/.test(runId))
    throw new InputError([`restore options: runId "${runId}" must be 1-24 characters a-z, 0-9, -`]);
  return { ...(raw as Partial<ImageRestoreOptions>), runId };
}

function toRef(img: MachineImage): RecoveryPointRef | undefined {
  const time = taggedTime(img.tags);
  const source = img.tags[TAG.source];
  if (!time || !source || img.state !== 'available') return undefined;
  return {
    class: 'image',
    source,
    id: img.id,
    time: time.toISOString(),
    region: img.region,
    details: {
      name: img.name,
      snapshotIds: img.snapshotIds,
      encrypted: img.snapshots.some((s) => s.encrypted),
      reason: img.tags[TAG.reason],
      copyOf: img.tags[TAG.copyOf],
      validated: img.tags[TAG.validated],
      // With sources: the account and region the server lives in (this image is the backup account's copy).
      ...(img.tags[TAG.sourceAccount]
        ? { sourceAccount: img.tags[TAG.sourceAccount], sourceRegion: img.tags[TAG.sourceRegion] }
        : {}),
    },
  };
}

/** The image recovery points (also the plan's listing: only the port it reads). */
export async function listImages(
  ports: { images(clients: Clients): Pick<ImagePort, 'listInstances' | 'listManagedImages'> },
  deps: Deps,
  opts: { source?: string; before?: Date; account?: string; sourceRegion?: string } = {},
): Promise<RecoveryPointRef[]> {
  const adapter = ports.images(deps.clients);
  // Images of a server that no longer exists are the ones a rebuild needs: list by tags, not by instances.
  const regions = [deps.policy.region];
  const dr = deps.policy.images?.copyToDrRegion ? drTarget(deps.policy)?.region : undefined;
  if (dr) regions.push(dr);
  // Without a source: images of the instances the policy selects, and of instances that are gone.
  const live = new Map((await adapter.listInstances()).map((i) => [i.id, i]));
  // A gone server's images count only when they came from where this policy backs up: kura's
  // own account without `sources`, one of the policy's source accounts with them (images an
  // earlier single-account run made have no source account and stay restorable).
  const sourceAccounts = new Set((deps.policy.sources ?? []).map((s) => s.accountId));
  const fromHere = (ref: RecoveryPointRef) => {
    const account = ref.details?.sourceAccount as string | undefined;
    return account === undefined || sourceAccounts.has(account);
  };
  const wanted = (ref: RecoveryPointRef) => {
    if (opts.source) return ref.source === opts.source;
    const inst = live.get(ref.source);
    return inst ? isSelected(inst.tags, deps.policy) : fromHere(ref);
  };
  const refs: RecoveryPointRef[] = [];
  for (const region of regions) {
    for (const img of await adapter.listManagedImages(region)) {
      const ref = toRef(img);
      if (!ref || !wanted(ref)) continue;
      if (opts.before && new Date(ref.time) > opts.before) continue;
      refs.push(ref);
    }
  }
  // With sources, kura's own images are the backup account's copies, each tagged with the
  // account its server lives in: a named server is restored from one account's copies.
  let chosen = refs;
  if (opts.source) {
    const holders = refs.map((r) => r.details?.sourceAccount).filter((a): a is string => Boolean(a));
    const account = sourceAccountOf('instance account', opts.source, opts.account, holders);
    if (account) chosen = refs.filter((r) => r.details?.sourceAccount === account);
  }
  if (opts.sourceRegion) chosen = chosen.filter((r) => r.details?.sourceRegion === opts.sourceRegion);
  // Newest first; at the same time, the policy's own region before its DR copy.
  return chosen.sort(
    (a, b) =>
      b.time.localeCompare(a.time) ||
      Number(a.region !== deps.policy.region) - Number(b.region !== deps.policy.region),
  );
}

/** A restored (or launched) instance in the isolated account, with the command that removes it. */
export function resource(id: string, target: IsolatedTarget): CreatedResource {
  return {
    type: 'AWS::EC2::Instance',
    id,
    account: target.accountId,
    region: target.region,
    cleanup: `aws ec2 terminate-instances --instance-ids ${id} --region ${target.region}`,
  };
}

async function restoreImage(
  ports: ImageRestorePorts,
  deps: Deps,
  target: IsolatedTarget,
  rp: RecoveryPointRef,
  rawOpts?: Record<string, unknown>,
): Promise<RestoredItem> {
  const opts = options(rawOpts);
  const purpose = opts.purpose ?? 'validation';
  const started = new Date(deps.clients.timer.now());
  if (rp.region !== target.region) {
    throw new InputError([
      `image ${rp.id} is in ${rp.region} but the isolated target is in ${target.region}; expected a recovery point in ${target.region}`,
    ]);
  }
  // 1. Where it goes: checked isolated before anything is shared or launched.
  const isolated = ports.instances(target.clients);
  const network = target.network ?? (await ports.network(target.clients, target.region));
  const subnetId = network.subnetIds[0];
  if (!subnetId)
    throw new InputError(['target.network.subnetIds: empty; expected at least one subnet with no route out']);
  const problems = await isolated.isolationFindings(network.vpcId, target.region);
  const ingress = await isolated.ingressRuleCount(network.securityGroupId, target.region);
  if (ingress > 0)
    problems.push(`security group ${network.securityGroupId} has ${ingress} ingress rule(s); expected none`);
  if (problems.length > 0) throw new InputError(problems.map((p) => `target.network: ${p}`));

  const created: CreatedResource[] = [];
  try {
    // 2. The image: still there, kura's own, shareable; shared with its snapshots.
    const source = ports.images(deps.clients);
    const image = await source.getImage(rp.id, rp.region);
    if (!image || !isManaged(image.tags, 'image') || image.state !== 'available') {
      throw new Error(
        `image ${rp.id} of ${rp.source} is gone, not kura-managed or not available (${image?.state ?? 'missing'})`,
      );
    }
    const keys = ports.keys(deps.clients);
    const facts = [];
    for (const keyId of new Set(
      image.snapshots.map((s) => s.kmsKeyId).filter((k): k is string => Boolean(k)),
    )) {
      const k = await keys.describe(keyId, rp.region);
      facts.push({ keyId, ...k });
    }
    const blockers = sharingBlockers(facts, target.accountId);
    if (blockers.length > 0)
      throw new Error(`image ${rp.id} cannot be shared with ${target.accountId}: ${blockers.join('; ')}`);
    await source.shareImage(image, target.accountId, rp.region);

    // 3. The server, launched in the isolated network (or found again on a retry).
    const record = parseConfigurationRecord(
      // A missing record is undefined already; a refused read is an error, not "no record".
      await ports.records(deps.clients, deps.policy.vault.bucket).get(configRecordKey(rp.source, image.name)),
    );
    const tags: TagMap = {
      Name: restoredName(purpose, opts.runId, rp.source, originOf(rp)),
      ...managedTags({
        backupClass: purpose,
        source: rp.source,
        time: new Date(rp.time),
        createdBy: purpose,
      }),
      [RUN_TAG]: opts.runId,
      [TAG.copyOf]: `${rp.region}:${rp.id}`,
    };
    const [existing] = await isolated.findByTags(
      { [RUN_TAG]: opts.runId, [TAG.copyOf]: tags[TAG.copyOf] as string },
      target.region,
    );
    const instanceId =
      existing?.id ??
      (await isolated.launch(
        {
          imageId: image.id,
          instanceType: opts.instanceType ?? record?.configuration.instanceType ?? 't3.micro',
          subnetId,
          securityGroupId: network.securityGroupId,
          tags,
          blockDevices: image.blockDevices,
          kmsKeyId:
            (rawOpts?.kmsKeyArn as string | undefined) ?? (await ports.key(target.clients, target.region)),
        },
        target.region,
      ));
    created.push(resource(instanceId, target));

    const timer = target.clients.timer;
    const deadline = timer.now() + (opts.maxWaitSeconds ?? 600) * 1000;
    for (;;) {
      const inst = await isolated.describe(instanceId, target.region);
      if (!inst) throw new Error(`instance ${instanceId} disappeared while waiting for it`);
      if (inst.state === 'running') {
        const finished = new Date(deps.clients.timer.now());
        return {
          class: 'image',
          source: rp.source,
          recoveryPoint: rp,
          resources: created,
          endpoint: inst.privateIp,
          startedAt: started.toISOString(),
          finishedAt: finished.toISOString(),
          durationSeconds: Math.round((finished.getTime() - started.getTime()) / 1000),
        };
      }
      if (inst.state !== 'pending')
        throw new Error(`instance ${instanceId} is ${inst.state}; expected it to start running`);
      if (timer.now() >= deadline)
        throw new NotReadyError(
          `instance ${instanceId} is not running yet; the run resumes where it stopped`,
        );
      await timer.sleep((opts.pollSeconds ?? 10) * 1000);
    }
  } catch (err) {
    if (err instanceof NotReadyError || err instanceof InputError) throw err;
    const e = err as Error;
    throw new RestoreFailedError(`image ${rp.source} from ${rp.id}: ${e.name}: ${e.message}`, created);
  }
}

/** The image step's cleanup (also alone: shared/edge/restore-cleanups.ts). */
export async function cleanupImage(
  ports: { instances(clients: Clients): Pick<IsolatedInstancesPort, 'describe' | 'terminate'> },
  target: IsolatedTarget,
  resources: CreatedResource[],
): Promise<void> {
  const isolated = ports.instances(target.clients);
  await removeEach(
    resources.filter((r) => r.type === 'AWS::EC2::Instance'),
    async (r) => {
      const inst = await isolated.describe(r.id, r.region);
      if (!inst || inst.state === 'terminated' || inst.state === 'shutting-down') return;
      if (!isManaged(inst.tags)) throw new Error(`refusing to terminate ${r.id}: not kura-managed`);
      await isolated.terminate(r.id, r.region);
    },
  );
}

/** The image restore step over the given adapters. */
export function imageStep(ports: ImageRestorePorts): RestoreStep {
  return {
    class: 'image',
    list: (deps, opts) => listImages(ports, deps, opts),
    restore: (deps, target, rp, opts) => restoreImage(ports, deps, target, rp, opts),
    cleanup: (target, resources) => cleanupImage(ports, target, resources),
  };
}
