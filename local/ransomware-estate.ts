// Local runtime: the estate of the ransomware day (issue 16), shared by
// test/integration/ransomware-day.test.ts and step 6 of `kura demo`: kura in
// the backup account (the caller's credentials), two source accounts reached
// by STS through their kura-source role with its ExternalId (B in two
// regions), the isolated account of the policy for restores. Source A holds
// a database, a server, a content source and the log landing; source B a
// database in its second region. Then a week of scheduled backups: each day's
// runs at their scheduled time on the caller's clock, by kura's functions as
// their roles (local/iam/functions.ts), the content changing every day.
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { createDatabase } from './databases.ts';
import type { Clients } from '../shared/aws/clients.ts';
import { localDate } from '../shared/policy/calendar.ts';
import { parsePolicy } from '../shared/policy/parse.ts';
import type { Policy } from '../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../shared/runtime/event.ts';
import type { RunResult } from '../shared/runtime/result.ts';
import { operatorClients } from './iam/principals.ts';
import { amiBackup, contentBackup, logArchive, rdsSnapshot } from './iam/functions.ts';
import { ensureVault } from './vault.ts';

export const BACKUP_ACCOUNT = '123456789012';
export const SOURCE_A = '333333333333';
export const SOURCE_B = '444444444444';
/** The second region of source B. */
export const SOURCE_B_SECOND_REGION = 'us-west-2';
/** The base image the emulator knows (moto's default AMIs). */
const BASE_AMI = 'ami-12c6146b';
const DAY = 86_400_000;

export function sourceRoleArn(account: string): string {
  return `arn:aws:iam::${account}:role/kura-source`;
}
export const sourceExternalId = (account: string) => `kura-src-${account}`;

/**
 * `p` pulling from the two source accounts: A owns the first content source,
 * B the others and the log landing. The selector's key is the one the source
 * stack's conditions name; its value stays the caller's (a unique value keeps
 * runs apart).
 */
export function withTwoSources(p: Policy, tagValue = p.selector.tagValue): Policy {
  p.selector = { tagKey: 'kura:backup', tagValue };
  p.sources = [
    { accountId: SOURCE_A, roleArn: sourceRoleArn(SOURCE_A), externalId: sourceExternalId(SOURCE_A) },
    {
      accountId: SOURCE_B,
      roleArn: sourceRoleArn(SOURCE_B),
      externalId: sourceExternalId(SOURCE_B),
      regions: [p.region, SOURCE_B_SECOND_REGION],
    },
  ];
  for (const [i, c] of p.content.entries()) c.account = i === 0 ? SOURCE_A : SOURCE_B;
  if (p.logs) p.logs.account = SOURCE_B;
  if (p.database) p.database.enforceBackupRetention = false;
  return p;
}

export interface Clock {
  set(t: Date): void;
}

export interface RansomwareEstate {
  policy: Policy;
  /** The administrators of the source accounts, per account and region. */
  admin: (account: string, region?: string) => Promise<Clients>;
  /** Source A's database and server, source B's database (in its second region). */
  db: string;
  dbB: string;
  instance: string;
  content: { name: string; bucket: string; prefix: string };
  landing: { bucket: string; prefix: string };
  host: string;
  /** The backup account's keys: the vault's, and the one its database and image copies are under. */
  vaultKeyArn: string;
  copiesKeyArn: string;
}

/**
 * A customer-managed KMS key of `owner` (through `c`) whose policy lets
 * `accounts` use it as RDS and EC2 do for a copy or restore (docs/deploy.md);
 * with none, the owner's alone.
 */
export async function crossAccountKey(
  c: Clients,
  owner: string,
  accounts: string[],
  alias?: string,
): Promise<string> {
  const kms = c.get(KMSClient);
  const Statement = [
    {
      Sid: 'AccountAdministers',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${owner}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
    ...(accounts.length
      ? [
          {
            Sid: 'OtherAccountsCopyAndRestore',
            Effect: 'Allow',
            Principal: { AWS: accounts.map((x) => `arn:aws:iam::${x}:root`) },
            Action: [
              'kms:DescribeKey',
              'kms:Decrypt',
              'kms:ReEncrypt*',
              'kms:GenerateDataKeyWithoutPlaintext',
              'kms:CreateGrant',
            ],
            Resource: '*',
          },
        ]
      : []),
  ];
  const key = await kms.send(
    new CreateKeyCommand({
      Description: 'kura test key',
      Policy: JSON.stringify({ Version: '2012-10-17', Statement }),
    }),
  );
  if (alias)
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyMetadata?.KeyId }));
  return key.KeyMetadata?.Arn ?? '';
}

/** An encrypted source database with its automated backups, as the attack finds it. */
function database(c: Clients, id: string, tags: Record<string, string>, kmsKeyId: string) {
  return createDatabase(c, id, tags, {
    MasterUserPassword: 'source-password-1',
    StorageEncrypted: true,
    KmsKeyId: kmsKeyId,
  });
}

async function server(c: Clients, name: string, tags: Record<string, string>): Promise<string> {
  const ec2 = c.get(EC2Client);
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }));
  const subnet = await ec2.send(
    new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId, CidrBlock: '10.42.1.0/24' }),
  );
  const sg = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: `web-${name}`, Description: 'web', VpcId: vpc.Vpc?.VpcId }),
  );
  const r = await ec2.send(
    new RunInstancesCommand({
      ImageId: BASE_AMI,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: 't3.micro',
      SubnetId: subnet.Subnet?.SubnetId,
      SecurityGroupIds: [sg.GroupId ?? ''],
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, VolumeType: 'gp3' } }],
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: Object.entries({ Name: name, ...tags }).map(([Key, Value]) => ({ Key, Value })),
        },
      ],
    }),
  );
  return r.Instances?.[0]?.InstanceId ?? '';
}

/**
 * The estate: `base` (the reference policy) turned into a two-source policy
 * with a vault of its own (`kura-vault-rw-<suffix>`), its keys, buckets,
 * databases and server. `backup` acts as the backup account's administrator.
 */
export async function ransomwareEstate(
  backup: Clients,
  base: Policy,
  suffix: string,
): Promise<RansomwareEstate> {
  const region = base.region;
  const isolated = base.isolatedAccount?.accountId;
  if (!isolated)
    throw new Error(
      'the ransomware day restores into the isolated account: policy.isolatedAccount is not set',
    );
  const admins = new Map<string, Promise<Clients>>();
  const admin = (account: string, r = region) => {
    const k = `${account}/${r}`;
    let c = admins.get(k);
    if (!c) {
      c = operatorClients(account, backup, r);
      admins.set(k, c);
    }
    return c;
  };
  const a = await admin(SOURCE_A);
  const b2 = await admin(SOURCE_B, SOURCE_B_SECOND_REGION);
  const copiesAlias = `alias/kura-rw-copies-${suffix}`;
  const copiesKeyArn = await crossAccountKey(backup, BACKUP_ACCOUNT, [isolated], copiesAlias);
  const content = { name: `site-${suffix}`, bucket: `kura-rw-site-${suffix}`, prefix: 'site/' };
  const landing = { bucket: `kura-rw-landing-${suffix}`, prefix: 'incoming/' };
  const p = structuredClone(base);
  p.vault.bucket = `kura-vault-rw-${suffix}`;
  p.vault.kmsKeyAlias = `alias/kura-vault-rw-${suffix}`;
  p.content = [{ name: content.name, source: `s3://${content.bucket}/${content.prefix}`, generations: 7 }];
  if (!p.logs || !p.database || !p.images)
    throw new Error('the reference policy has logs, database and images sections');
  p.logs.landing = `s3://${landing.bucket}/${landing.prefix}`;
  p.database.copy = undefined;
  p.database.shareWithIsolatedAccount = false;
  p.database.kmsKeyId = copiesAlias;
  p.images = { ...p.images, copyToDrRegion: false, waitSeconds: 0, keepInSource: 1, kmsKeyId: copiesKeyArn };
  const tag = `rw-${suffix}`;
  const two = withTwoSources(p, tag);
  // Source A owns the content source and the log landing: the attacker's account holds all four classes.
  if (two.logs) two.logs.account = SOURCE_A;
  const policy = parsePolicy(two, 'ransomware-day');
  const vault = await ensureVault(backup, policy);

  for (const Bucket of [content.bucket, landing.bucket])
    await a.get(S3Client).send(
      new CreateBucketCommand({
        Bucket,
        CreateBucketConfiguration: { LocationConstraint: region as never },
      }),
    );
  const tags = { 'kura:backup': tag, env: 'prod' };
  const db = `shop-${suffix}`;
  const dbB = `ledger-${suffix}`;
  await database(a, db, tags, await crossAccountKey(a, SOURCE_A, [BACKUP_ACCOUNT]));
  await database(b2, dbB, tags, await crossAccountKey(b2, SOURCE_B, [BACKUP_ACCOUNT]));
  const instance = await server(a, `web-${suffix}`, tags);
  return {
    policy,
    admin,
    db,
    dbB,
    instance,
    content,
    landing,
    host: `web-${suffix}`,
    vaultKeyArn: vault.kmsKeyArn,
    copiesKeyArn,
  };
}

/** An access log of `host` for `day`: `lines` lines, different for every seed. */
export function accessLogOf(host: string, day: string, lines: number, seed: number): string {
  return Array.from(
    { length: lines },
    (_, i) =>
      `10.0.${seed % 250}.${i % 250} - - [${day}T${String(i % 24).padStart(2, '0')}:00:00Z] "GET /${host}/p${(i * 7 + seed) % 97} HTTP/1.1" 200 ${100 + ((i * 31 + seed) % 900)}\n`,
  ).join('');
}

export interface Week {
  /** Backup times, oldest first. */
  times: Date[];
  /** The content source as each day's generation found it: key → bytes. */
  contentByDay: Map<string, Buffer>[];
  /** Every log file dropped in the landing: day → { file, body }. */
  logs: Map<string, { file: string; body: string }>;
  /** Each scheduled run's result, labelled. */
  runs: { what: string; result: RunResult }[];
}

/**
 * `days` days of scheduled backups ending the day before `end`, at 04:00 UTC:
 * each day the content source changes and a log file lands, then
 * rds-snapshot, ami-backup and content-backup run, and log-archive an hour later.
 */
export async function weekOfBackups(
  e: RansomwareEstate,
  backup: Clients,
  clock: Clock,
  opts: { end: Date; days: number; onDay?: (day: string, i: number) => void },
): Promise<Week> {
  const deps = { policy: e.policy, clients: backup };
  const a = await e.admin(SOURCE_A);
  const s3 = a.get(S3Client);
  const base = Date.UTC(opts.end.getUTCFullYear(), opts.end.getUTCMonth(), opts.end.getUTCDate(), 4, 0, 0);
  const times = Array.from({ length: opts.days }, (_, i) => new Date(base - (opts.days - i) * DAY));
  const current = new Map<string, Buffer>();
  const put = async (key: string, body: Buffer) => {
    await s3.send(
      new PutObjectCommand({ Bucket: e.content.bucket, Key: e.content.prefix + key, Body: body }),
    );
    current.set(key, body);
  };
  const logs = new Map<string, { file: string; body: string }>();
  const contentByDay: Map<string, Buffer>[] = [];
  const runs: Week['runs'] = [];
  for (const [i, t] of times.entries()) {
    const day = localDate(t, e.policy.timezone);
    opts.onDay?.(day, i);
    await put('index.html', Buffer.from(`<h1>shop, day ${i}</h1>\n`));
    await put(
      `uploads/${day}.bin`,
      Buffer.from(Array.from({ length: 3000 + i * 517 }, (_, k) => (k * 31 + i) % 256)),
    );
    const file = `access.log-${day.replaceAll('-', '')}`;
    const body = accessLogOf(e.host, day, 40 + i, i);
    await s3.send(
      new PutObjectCommand({
        Bucket: e.landing.bucket,
        Key: `${e.landing.prefix}${e.host}/access/${file}`,
        Body: body,
      }),
    );
    logs.set(day, { file, body });

    clock.set(t);
    const event = syntheticScheduledEvent(t);
    runs.push({ what: `rds-snapshot ${day}`, result: await rdsSnapshot(event, deps) });
    runs.push({ what: `ami-backup ${day}`, result: await amiBackup(event, deps) });
    runs.push({ what: `content-backup ${day}`, result: (await contentBackup(event, deps)) as RunResult });
    const later = new Date(t.getTime() + 3600_000);
    clock.set(later);
    runs.push({ what: `log-archive ${day}`, result: await logArchive(syntheticScheduledEvent(later), deps) });
    contentByDay.push(new Map(current));
  }
  return { times, contentByDay, logs, runs };
}

/**
 * The on-call engineer's request after the attack: all four classes of
 * source A at one point in time, two hours after the backups of
 * `week.times[chosen]`, logs from the first day of the week.
 */
export function restoreEverything(e: RansomwareEstate, week: Week, chosen: number) {
  const t = week.times[chosen];
  if (!t) throw new Error(`no day ${chosen} in the week (${week.times.length} days)`);
  const at = new Date(t.getTime() + 2 * 3600_000).toISOString();
  const from = localDate(week.times[0] as Date, e.policy.timezone);
  return {
    time: t,
    atDay: localDate(t, e.policy.timezone),
    from,
    request: {
      reason: `ransomware in source account ${SOURCE_A}: restore everything as it was`,
      ticket: 'INC-RANSOM-1',
      at,
      database: { instance: e.db, account: SOURCE_A },
      instances: [{ instance: e.instance }],
      content: [{ source: e.content.name }],
      logs: [{ class: 'access', host: e.host, from }],
    },
  };
}

/** The logs of the week from `from` to `atDay`, as restored under a prefix: day/file → body. */
export function logsBetween(week: Week, from: string, atDay: string): Map<string, string> {
  return new Map(
    [...week.logs.entries()]
      .filter(([d]) => d >= from && d <= atDay)
      .map(([d, l]) => [`${d}/${l.file}`, l.body] as const),
  );
}

/** How objects under `bucket/prefix` compare with `expected` (key below the prefix → bytes). */
export async function compareBytes(
  s3: S3Client,
  bucket: string,
  prefix: string,
  expected: Map<string, Buffer | string>,
): Promise<{ identical: number; missing: string[]; extra: string[]; different: string[] }> {
  const found: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }),
    );
    for (const o of page.Contents ?? []) found.push((o.Key ?? '').slice(prefix.length));
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  const out = { identical: 0, missing: [] as string[], extra: [] as string[], different: [] as string[] };
  for (const k of found.filter((k) => !expected.has(k))) out.extra.push(k);
  for (const [k, want] of expected) {
    if (!found.includes(k)) {
      out.missing.push(k);
      continue;
    }
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + k }));
    const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
    if (bytes.equals(Buffer.from(want))) out.identical++;
    else out.different.push(k);
  }
  return out;
}
