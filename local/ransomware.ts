// Local runtime: a ransomware day. An administrator of one source account,
// acting on purpose with that account's full rights, destroys what the
// account holds and then turns on the backups it can reach. Used by
// test/integration/ransomware-day.test.ts and step 6 of `kura demo`.
//
// "Full rights" here: the attacker's credentials are the account's
// administrator (AdministratorAccess) as the IAM front layer issues them
// (local/iam/front.ts); every request goes through that layer, which answers
// as AWS would from the deployed policies: inside its own account the attacker
// may do anything; in the backup account only what a resource policy there
// (the vault's bucket policy, the vault key's policy, a role's trust policy)
// grants it, and those grant it nothing. What S3 then refuses on its own
// (Object Lock in COMPLIANCE mode) is moto's answer, with local/moto's patches.
//
// Each attempt is recorded: what it aimed at, the call, its outcome and, when
// refused, the error and what refused it. The CloudTrail event each call
// leaves in the attacker's account (refused calls included, with their
// errorCode, as CloudTrail records them) is kept so that the detective
// controls' rules can be matched against it (`raisedAlerts`).
import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { type EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import {
  DisableKeyCommand,
  KMSClient,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import {
  DeleteDBClusterCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { detectiveRules } from '../deploy/template.ts';
import type { Clients } from '../shared/aws/clients.ts';

/** Where an attempt aimed: the attacker's own account, or kura's backup account. */
export type Side = 'source' | 'backup';

export interface Attempt {
  side: Side;
  /** The API call, as CloudTrail names its service and event: `rds:DeleteDBSnapshot`. */
  call: string;
  /** What it aimed at (an identifier, or bucket/key#version). */
  target: string;
  /** A note on the call's form: "version, governance bypass", "retention 0". */
  how?: string;
  outcome: 'done' | 'refused';
  /** The error's name (AccessDenied, AccessDeniedException, UnauthorizedOperation, …). */
  error?: string;
  /** What refused it: the account boundary, a named policy statement, Object Lock, or the service. */
  refusedBy?: string;
  message?: string;
  /** The CloudTrail event's source and parameters (camelCase, as CloudTrail records them). */
  trail: { eventSource: string; eventName: string; requestParameters: Record<string, unknown> };
}

export interface Location {
  bucket: string;
  prefix: string;
}

export interface RansomwareTargets {
  /** The attacker's account and the regions it works in. */
  account: string;
  regions: string[];
  /** The content sources and the log landing of that account (their buckets are the account's). */
  sources: Location[];
  vault: {
    bucket: string;
    /** Every object version the attacker may know of (worst case: all of them, as listed by kura). */
    versions: { key: string; versionId?: string }[];
  };
  /** Keys of the backup account to try to disable or delete (the vault key, the copies' keys). */
  keys: string[];
  /** Roles to try to assume: its own kura-source (trust policy readable in its account), kura's administrators. */
  roles: { arn: string; externalId?: string }[];
  /**
   * Confines the attacker to resources whose description mentions one of these
   * strings. The tests need it (other test files share the emulated source
   * accounts); the demo passes nothing: everything in the account goes.
   */
  scope?: string[];
}

/** The day's record: each attempt, in order. */
export interface RansomwareDay {
  account: string;
  attempts: Attempt[];
}

const ERROR_LINE = /^[^\n]*/;

function refusedBy(err: Error & { Code?: string }): string {
  const m = err.message ?? '';
  if (m.startsWith('kura iam:')) {
    const explicit = /denied explicitly by ([^;]+)/.exec(m);
    if (explicit) return `policy: ${explicit[1]?.trim()}`;
    if (/trust policy/.test(m)) return 'trust policy: the role does not trust this account';
    return "account boundary: no policy of the resource's account grants this account";
  }
  if (/retention|object lock|locked|WORM/i.test(m)) return 'Object Lock (COMPLIANCE)';
  return `the service (${err.name})`;
}

/** Runs `act` as one attempt, recording its outcome; never throws for an AWS refusal. */
async function attempt(
  day: Attempt[],
  a: Omit<Attempt, 'outcome'>,
  act: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await act();
    day.push({ ...a, outcome: 'done' });
    return true;
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    // Anything but an answer from AWS (a bug, a broken connection) is not an outcome.
    if (!err.$metadata) throw err;
    day.push({
      ...a,
      outcome: 'refused',
      error: err.name,
      refusedBy: refusedBy(err),
      message: ERROR_LINE.exec(err.message ?? '')?.[0],
    });
    return false;
  }
}

const inScope = (scope: string[] | undefined, item: unknown) =>
  !scope || scope.some((s) => JSON.stringify(item).includes(s));

/** In the attacker's own account and regions: every recovery point, database and source object. */
async function destroySource(attacker: (region: string) => Clients, t: RansomwareTargets, day: Attempt[]) {
  for (const region of t.regions) {
    const c = attacker(region);
    const rds = c.get(RDSClient);
    const ec2 = c.get(EC2Client);
    const src = (
      service: string,
      eventName: string,
      target: string,
      params: Record<string, unknown>,
      how?: string,
    ) => ({
      side: 'source' as const,
      call: `${service}:${eventName}`,
      target: `${region}/${target}`,
      ...(how ? { how } : {}),
      trail: { eventSource: `${service}.amazonaws.com`, eventName, requestParameters: params },
    });

    const dbs = ((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).filter((d) =>
      inScope(t.scope, d),
    );
    const clusters = ((await rds.send(new DescribeDBClustersCommand({}))).DBClusters ?? []).filter((d) =>
      inScope(t.scope, d),
    );
    // Automated backups first: retention 0 drops them (and point-in-time restore) with the database.
    for (const d of dbs) {
      const id = d.DBInstanceIdentifier ?? '';
      await attempt(
        day,
        src(
          'rds',
          'ModifyDBInstance',
          id,
          { dBInstanceIdentifier: id, backupRetentionPeriod: 0, applyImmediately: true },
          'retention 0',
        ),
        () =>
          rds.send(
            new ModifyDBInstanceCommand({
              DBInstanceIdentifier: id,
              BackupRetentionPeriod: 0,
              ApplyImmediately: true,
            }),
          ),
      );
    }
    for (const s of (await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' })))
      .DBSnapshots ?? []) {
      if (!inScope(t.scope, s)) continue;
      const id = s.DBSnapshotIdentifier ?? '';
      await attempt(day, src('rds', 'DeleteDBSnapshot', id, { dBSnapshotIdentifier: id }), () =>
        rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id })),
      );
    }
    const clusterSnaps = await rds.send(new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual' }));
    for (const s of clusterSnaps.DBClusterSnapshots ?? []) {
      if (!inScope(t.scope, s)) continue;
      const id = s.DBClusterSnapshotIdentifier ?? '';
      await attempt(day, src('rds', 'DeleteDBClusterSnapshot', id, { dBClusterSnapshotIdentifier: id }), () =>
        rds.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: id })),
      );
    }
    for (const d of dbs) {
      const id = d.DBInstanceIdentifier ?? '';
      const params = { dBInstanceIdentifier: id, skipFinalSnapshot: true, deleteAutomatedBackups: true };
      await attempt(day, src('rds', 'DeleteDBInstance', id, params, 'no final snapshot'), () =>
        rds.send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: id,
            SkipFinalSnapshot: true,
            DeleteAutomatedBackups: true,
          }),
        ),
      );
    }
    for (const d of clusters) {
      const id = d.DBClusterIdentifier ?? '';
      await attempt(
        day,
        src(
          'rds',
          'DeleteDBCluster',
          id,
          { dBClusterIdentifier: id, skipFinalSnapshot: true },
          'no final snapshot',
        ),
        () => rds.send(new DeleteDBClusterCommand({ DBClusterIdentifier: id, SkipFinalSnapshot: true })),
      );
    }

    // Images, then their snapshots (EC2 keeps a snapshot while an image uses it), then the servers.
    const ownImages = (await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? [];
    for (const img of ownImages) {
      if (!inScope(t.scope, img)) continue;
      const id = img.ImageId ?? '';
      await attempt(day, src('ec2', 'DeregisterImage', id, { imageId: id }), () =>
        ec2.send(new DeregisterImageCommand({ ImageId: id })),
      );
    }
    for (const s of (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []) {
      if (!inScope(t.scope, s)) continue;
      // A snapshot behind another owner's image is not the account's: moto lists its built-in
      // images' snapshots under every account; AWS lists them as Amazon's, not with OwnerIds self.
      const ami = /ami-[0-9a-f]+/.exec(s.Description ?? '')?.[0];
      if (ami && !ownImages.some((i) => i.ImageId === ami)) {
        const other = (await ec2.send(new DescribeImagesCommand({ ImageIds: [ami] })).catch(() => undefined))
          ?.Images?.[0];
        if (other && other.OwnerId !== t.account) continue;
      }
      const id = s.SnapshotId ?? '';
      // EC2 releases a deregistered image's snapshots a moment later (InvalidSnapshot.InUse
      // meanwhile): the attacker waits and tries again, as a script would.
      await attempt(day, src('ec2', 'DeleteSnapshot', id, { snapshotId: id }), async () => {
        for (let i = 1; ; i++) {
          try {
            return await ec2.send(new DeleteSnapshotCommand({ SnapshotId: id }));
          } catch (err) {
            if ((err as Error).name !== 'InvalidSnapshot.InUse' || i >= 10) throw err;
            await c.timer.sleep(15_000);
          }
        }
      });
    }
    const running = ((await ec2.send(new DescribeInstancesCommand({}))).Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .filter((i) => i.State?.Name !== 'terminated' && inScope(t.scope, i));
    for (const i of running) {
      const id = i.InstanceId ?? '';
      await attempt(
        day,
        src('ec2', 'TerminateInstances', id, { instancesSet: { items: [{ instanceId: id }] } }),
        () => ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })),
      );
    }
  }

  // The content sources and the log landing: every version of every object, for good.
  const s3 = attacker(t.regions[0] ?? '').get(S3Client);
  for (const loc of t.sources) {
    const versions = await objectVersions(s3, loc.bucket, loc.prefix);
    for (let i = 0; i < versions.length; i += 1000) {
      const batch = versions.slice(i, i + 1000);
      await attempt(
        day,
        {
          side: 'source',
          call: 's3:DeleteObjects',
          target: `${loc.bucket}/${loc.prefix}`,
          how: `${batch.length} object versions`,
          trail: {
            eventSource: 's3.amazonaws.com',
            eventName: 'DeleteObjects',
            requestParameters: { bucketName: loc.bucket },
          },
        },
        async () => {
          const out = await s3.send(
            new DeleteObjectsCommand({
              Bucket: loc.bucket,
              Delete: { Objects: batch.map((v) => ({ Key: v.key, VersionId: v.versionId })), Quiet: true },
            }),
          );
          const failed = out.Errors ?? [];
          if (failed.length) {
            const e = new Error(
              `${failed.length} of ${batch.length} not deleted: ${failed[0]?.Code} ${failed[0]?.Message}`,
            );
            e.name = failed[0]?.Code ?? 'DeleteObjectsError';
            Object.assign(e, { $metadata: {} });
            throw e;
          }
        },
      );
    }
  }
}

/** Every version and delete marker under `prefix` of `bucket`, as `s3`'s caller may list them. */
export async function objectVersions(s3: S3Client, bucket: string, prefix = '') {
  const out: { key: string; versionId?: string }[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, VersionIdMarker }),
    );
    for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])])
      out.push({ key: v.Key ?? '', ...(v.VersionId ? { versionId: v.VersionId } : {}) });
    KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (KeyMarker);
  return out;
}

/** A resource policy that hands the resource to the attacker's account. */
const attackerPolicy = (account: string, Action: string, Resource: string | string[]) => ({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Ransom', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action, Resource },
  ],
});

/** In kura's backup account: the vault's objects and configuration, its keys, its roles. */
async function attackBackups(attacker: (region: string) => Clients, t: RansomwareTargets, day: Attempt[]) {
  const c = attacker(t.regions[0] ?? '');
  const s3 = c.get(S3Client);
  const Bucket = t.vault.bucket;
  const onVault = (eventName: string, target: string, params: Record<string, unknown>, how?: string) => ({
    side: 'backup' as const,
    call: `s3:${eventName}`,
    target,
    ...(how ? { how } : {}),
    trail: {
      eventSource: 's3.amazonaws.com',
      eventName,
      requestParameters: { bucketName: Bucket, ...params },
    },
  });

  await attempt(day, onVault('ListObjectVersions', Bucket, {}), () =>
    s3.send(new ListObjectVersionsCommand({ Bucket })),
  );
  for (const v of t.vault.versions) {
    const where = `${Bucket}/${v.key}${v.versionId ? `#${v.versionId}` : ''}`;
    const key = { key: v.key };
    await attempt(
      day,
      onVault('DeleteObject', where, { ...key, versionId: v.versionId }, 'version, governance bypass'),
      () =>
        s3.send(
          new DeleteObjectCommand({
            Bucket,
            Key: v.key,
            VersionId: v.versionId,
            BypassGovernanceRetention: true,
          }),
        ),
    );
    await attempt(
      day,
      onVault('PutObjectRetention', where, { ...key, versionId: v.versionId }, 'retain until now'),
      () =>
        s3.send(
          new PutObjectRetentionCommand({
            Bucket,
            Key: v.key,
            VersionId: v.versionId,
            BypassGovernanceRetention: true,
            Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 60_000) },
          }),
        ),
    );
  }
  for (const k of new Set(t.vault.versions.map((v) => v.key))) {
    const where = `${Bucket}/${k}`;
    await attempt(day, onVault('DeleteObject', where, { key: k }, 'delete marker'), () =>
      s3.send(new DeleteObjectCommand({ Bucket, Key: k })),
    );
    await attempt(day, onVault('PutObject', where, { key: k }, 'overwrite (encrypted by the attacker)'), () =>
      s3.send(
        new PutObjectCommand({ Bucket, Key: k, Body: 'your backups are encrypted; pay to get them back' }),
      ),
    );
  }
  await attempt(day, onVault('PutBucketLifecycle', Bucket, {}, 'expire every version after 1 day'), () =>
    s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'ransom',
              Status: 'Enabled',
              Filter: { Prefix: '' },
              Expiration: { Days: 1 },
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            },
          ],
        },
      }),
    ),
  );
  const open = attackerPolicy(t.account, 's3:*', [`arn:aws:s3:::${Bucket}`, `arn:aws:s3:::${Bucket}/*`]);

  await attempt(day, onVault('PutBucketPolicy', Bucket, {}, 'grant the attacker s3:*'), () =>
    s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify(open) })),
  );
  await attempt(day, onVault('PutObjectLockConfiguration', Bucket, {}, 'GOVERNANCE, 1 day'), () =>
    s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
        },
      }),
    ),
  );
  await attempt(day, onVault('PutBucketVersioning', Bucket, {}, 'suspend versioning'), () =>
    s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } })),
  );
  await attempt(day, onVault('DeleteBucket', Bucket, {}), () => s3.send(new DeleteBucketCommand({ Bucket })));

  for (const keyId of t.keys) {
    const kms = c.get(KMSClient, keyId.split(':')[3] || undefined);
    const onKey = (eventName: string, params: Record<string, unknown>, how?: string) => ({
      side: 'backup' as const,
      call: `kms:${eventName}`,
      target: keyId,
      ...(how ? { how } : {}),
      trail: { eventSource: 'kms.amazonaws.com', eventName, requestParameters: { keyId, ...params } },
    });
    await attempt(day, onKey('ScheduleKeyDeletion', { pendingWindowInDays: 7 }, '7 days'), () =>
      kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 })),
    );
    await attempt(day, onKey('DisableKey', {}), () => kms.send(new DisableKeyCommand({ KeyId: keyId })));
    const mine = attackerPolicy(t.account, 'kms:*', '*');

    await attempt(day, onKey('PutKeyPolicy', { policyName: 'default' }, 'hand the key to the attacker'), () =>
      kms.send(
        new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(mine) }),
      ),
    );
  }

  const sts = c.get(STSClient);
  for (const r of t.roles) {
    await attempt(
      day,
      {
        side: r.arn.split(':')[4] === t.account ? 'source' : 'backup',
        call: 'sts:AssumeRole',
        target: r.arn,
        ...(r.externalId ? { how: 'with its ExternalId' } : {}),
        trail: {
          eventSource: 'sts.amazonaws.com',
          eventName: 'AssumeRole',
          requestParameters: { roleArn: r.arn },
        },
      },
      () =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: r.arn,
            RoleSessionName: 'ransom',
            ...(r.externalId ? { ExternalId: r.externalId } : {}),
          }),
        ),
    );
  }
}

/**
 * The day: `attacker(region)` is the source account's administrator in that
 * region. First what the account holds, then the backups.
 */
export async function ransomwareDay(
  attacker: (region: string) => Clients,
  targets: RansomwareTargets,
): Promise<RansomwareDay> {
  const attempts: Attempt[] = [];
  await destroySource(attacker, targets, attempts);
  await attackBackups(attacker, targets, attempts);
  return { account: targets.account, attempts };
}

/** The attempts grouped for people: one row per call, side and outcome, with a count. */
export function attemptRows(day: RansomwareDay): Record<string, unknown>[] {
  const rows = new Map<string, Record<string, unknown> & { n: number }>();
  for (const a of day.attempts) {
    const k = [a.side, a.call, a.how, a.outcome, a.refusedBy].join('|');
    const row = rows.get(k) ?? {
      where: a.side === 'source' ? `source ${day.account}` : 'backup account',
      call: a.call,
      how: a.how ?? '',
      n: 0,
      outcome: a.outcome,
      'refused by': a.refusedBy ?? '',
    };
    row.n++;
    rows.set(k, row);
  }
  return [...rows.values()].map(({ n, ...r }) => ({ ...r, times: n }));
}

/**
 * Alerts the detective controls (deploy/detective-controls.yml, deployed in
 * every source account and in the backup account) raise for the day: each
 * attempt's CloudTrail event ("AWS API Call via CloudTrail", with errorCode
 * when refused) put to EventBridge's own matcher (TestEventPattern) with each
 * rule's pattern. The emulator has no CloudTrail: the event is built from
 * the call, as CloudTrail records it in the caller's account.
 */
export async function raisedAlerts(
  events: EventBridgeClient,
  day: RansomwareDay,
  region: string,
): Promise<{ rule: string; eventName: string; count: number }[]> {
  const rules = Object.entries(detectiveRules()).map(([id, r]) => ({
    id,
    pattern: JSON.stringify((r.Properties as { EventPattern: object }).EventPattern),
  }));
  const counts = new Map<string, { rule: string; eventName: string; count: number }>();
  const seen = new Map<string, string[]>();
  for (const a of day.attempts) {
    const event = {
      version: '0',
      id: '00000000-0000-4000-8000-000000000000',
      'detail-type': 'AWS API Call via CloudTrail',
      source: `aws.${a.trail.eventSource.split('.')[0]}`,
      account: day.account,
      time: new Date().toISOString(),
      region,
      resources: [],
      detail: {
        eventVersion: '1.09',
        userIdentity: {
          type: 'AssumedRole',
          arn: `arn:aws:sts::${day.account}:assumed-role/kura-admin/attacker`,
        },
        eventSource: a.trail.eventSource,
        eventName: a.trail.eventName,
        awsRegion: region,
        requestParameters: a.trail.requestParameters,
        ...(a.outcome === 'refused' ? { errorCode: a.error, errorMessage: a.message } : {}),
        eventType: 'AwsApiCall',
        managementEvent: true,
      },
    };
    const key = JSON.stringify([
      a.trail.eventSource,
      a.trail.eventName,
      a.trail.requestParameters.backupRetentionPeriod,
    ]);
    let matched = seen.get(key);
    if (!matched) {
      matched = [];
      for (const r of rules) {
        const out = await events.send(
          new TestEventPatternCommand({ EventPattern: r.pattern, Event: JSON.stringify(event) }),
        );
        if (out.Result) matched.push(r.id);
      }
      seen.set(key, matched);
    }
    for (const rule of matched) {
      const k = `${rule}|${a.trail.eventName}`;
      const row = counts.get(k) ?? { rule, eventName: a.trail.eventName, count: 0 };
      row.count++;
      counts.set(k, row);
    }
  }
  return [...counts.values()];
}
