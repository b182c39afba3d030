// Local runtime: the IAM front layer. A loopback HTTP server in front of the
// emulator (moto enforces no IAM, bucket or key policy) that sees every
// request, from in-process tests, `kura` subprocesses and `kura demo` alike,
// and answers it as AWS would: it attributes the request to its principal
// from the credentials (as AWS does), maps the command to the IAM actions and
// resources AWS authorizes it on (local/iam/actions.ts), evaluates each
// against the deployed policies (local/iam/evaluate.ts) and either forwards
// the request or refuses it in the service's own AccessDenied shape. Every
// request is recorded (JSONL under the run directory) with its principal,
// actions, resources and the deciding statements; a refusal's message names
// them, so the test that made it fails with it.
//
// Principals:
// - credentials that AssumeRole returned through this layer: that role (the
//   trust policy, with its ExternalId condition, was evaluated on the way);
// - credentials issued on the control endpoint for a function, a state
//   machine or Scheduler: the role of the template, assumed by the AWS service
//   (lambda, states, scheduler) under the role's trust policy;
// - plain credentials: the operator, the backup account's `kura-admin` role
//   (the first of vault.administrators), holding AdministratorAccess: what
//   limits it is the resource policies (vault bucket and key).
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import {
  DescribeImagesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeSnapshotsCommand,
  DescribeTagsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetKeyPolicyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Clients } from '../../shared/aws/clients.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { awsIsolatedAccess } from '../../shared/aws/restore-ports.ts';
import { owningAccount } from '../../shared/policy/sources.ts';
import { ensureAccessProfile } from '../isolated-account.ts';
import { invokeProbeRunner, type ProbeRunnerInvocation } from '../probe-runner.ts';
import type { StandInDatabase } from '../stand-in-databases.ts';
import { cannedError, forwardRequest, listenOnLoopback, readBody, relay } from '../fault-proxy.ts';
import { needsOf, type Need, UnmappedCommandError } from './actions.ts';
import type { CfnTemplate } from './cfn.ts';
import {
  BACKUP_ACCOUNT,
  buildDeployment,
  type Deployment,
  keyArn,
  type PolicyDocument,
} from './deployment.ts';
import { type Decision, evaluate, type Principal, type ResourcePolicy } from './evaluate.ts';
import { rolePrincipal } from './principal-of.ts';
import { CONTROL_PREFIX } from './principals.ts';
import { type AwsRequest, parseRequest } from './request.ts';
import { ensureIsolatedBucket, ensureIsolatedKey } from '../../shared/aws/isolated-storage.ts';
import { ensureIsolatedNetwork } from '../../shared/aws/isolated-network.ts';

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface Session {
  principal: Principal;
  deployment?: Deployment;
  creds: Creds;
  worker: string;
}

export interface NeedRecord {
  action: string;
  resource: string;
  allowed: boolean;
  reason: string;
  deciding: string[];
}

export interface RequestRecord {
  seq: number;
  worker: string;
  /** The principal's label: a role's logical id (RdsSnapshotRole), or kura-admin. */
  principal: string;
  principalArn: string;
  deployment?: string;
  operation: string;
  needs: NeedRecord[];
  denied: boolean;
  message?: string;
  /** A denial the test declared it expects (acknowledged on the control endpoint). */
  expected?: boolean;
}

export interface IamFrontLayer {
  endpoint: string;
  records: RequestRecord[];
  close(): Promise<void>;
}

export interface FrontLayerOptions {
  /** The emulator's endpoint. */
  target: string;
  /** Directory for requests.jsonl. */
  runDir: string;
  /** `sls package`'s template and the policy it was packaged for. */
  packaged: CfnTemplate;
  packagedFor: Policy;
}

const ADMINISTRATOR_ACCESS: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'AdministratorAccess', Effect: 'Allow', Action: '*', Resource: '*' }],
};
/** The functions that act in the isolated account (its role trusts exactly theirs). */
const ISOLATED_USERS = [
  'restore',
  'restore-database',
  'restore-image',
  'restore-content',
  'restore-logs',
  'validation-step',
  'validation-report',
  'validation-database',
  'validation-image',
  'validation-content',
  'validation-logs',
];
/** Operator roles the harness acts as (not kura's): the accounts' administrators and the deployer. */
const OPERATOR_ROLES = ['kura-admin', 'kura-deployer'];

function operator(account: string, name: string): Principal {
  return {
    arn: `arn:aws:iam::${account}:role/${name}`,
    account,
    label: account === BACKUP_ACCOUNT ? name : `${name}@${account}`,
    policies: [{ name: `${name} (AdministratorAccess)`, policy: ADMINISTRATOR_ACCESS }],
  };
}

const DEFAULT_KEY_POLICY = (account: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'DefaultKeyPolicy',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
});

function xmlValue(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
}

export async function startIamFrontLayer(opts: FrontLayerOptions): Promise<IamFrontLayer> {
  const target = new URL(opts.target);
  mkdirSync(opts.runDir, { recursive: true });
  const journal = join(opts.runDir, 'requests.jsonl');
  const records: RequestRecord[] = [];
  const sessions = new Map<string, Session>();
  /** IAM actions a test withholds from its worker's requests (a role without that grant). */
  const withheld = new Map<string, Set<string>>();
  const deployments = new Map<string, Deployment>();
  const byBucket = new Map<string, Deployment>();
  let seq = 0;
  const region = opts.packagedFor.region;
  const motoClients = new Map<
    string,
    {
      s3: S3Client;
      kms: KMSClient;
      rds: RDSClient;
      ec2: EC2Client;
      secrets: SecretsManagerClient;
      iam: IAMClient;
    }
  >();
  /** Databases standing in for restored endpoints, by worker (local/stand-in-databases.ts). */
  const standIns = new Map<string, StandInDatabase[]>();
  /** This layer's own endpoint: the in-process probe runner's requests come back through it. */
  let self = '';
  const plain: Creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const sts = new STSClient({ region, endpoint: opts.target, credentials: plain });
  const accountCreds = new Map<string, Creds>([[BACKUP_ACCOUNT, plain]]);

  /** Credentials at the emulator for an account's administrator (to read tags, aliases, encryption). */
  /**
   * Credentials of an account's administrator in the emulator. `worker`: a
   * session of its own for that test worker (or process), so that a refusal
   * is reported to the worker whose request it was, not to whichever asked
   * last for the same account's administrator.
   */
  const credsFor = async (account: string, worker?: string): Promise<Creds> => {
    const key = worker === undefined || account === BACKUP_ACCOUNT ? account : `${account}/${worker}`;
    let c = accountCreds.get(key);
    if (!c) {
      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${account}:role/kura-admin`,
          RoleSessionName: key === account ? 'kura-iam-front' : `kura-iam-front-w${worker}`,
        }),
      );
      c = {
        accessKeyId: out.Credentials?.AccessKeyId ?? '',
        secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
        sessionToken: out.Credentials?.SessionToken,
      };
      accountCreds.set(key, c);
    }
    return c;
  };
  const moto = async (account: string, reg = region) => {
    const k = `${account}/${reg}`;
    let c = motoClients.get(k);
    if (!c) {
      const credentials = await credsFor(account);
      const cfg = { region: reg, endpoint: opts.target, credentials, forcePathStyle: true };
      c = {
        s3: new S3Client(cfg),
        kms: new KMSClient(cfg),
        rds: new RDSClient(cfg),
        ec2: new EC2Client(cfg),
        secrets: new SecretsManagerClient(cfg),
        iam: new IAMClient(cfg),
      };
      motoClients.set(k, c);
    }
    return c;
  };

  /**
   * The isolated account is deployed before kura (deploy/isolated-account.yml,
   * by that account's administrator): the network, key and bucket kura-restore
   * uses but may not create, and the on-call route in. Played once per account, as its administrator.
   */
  const isolatedDeployed = new Map<string, Promise<void>>();
  const deployIsolatedAccount = (account: string, reg: string): Promise<void> => {
    let p = isolatedDeployed.get(account);
    if (!p) {
      p = (async () => {
        const clients = new Clients({
          region: reg,
          endpoint: opts.target,
          credentials: await credsFor(account),
          label: `${account} administrator`,
        });
        const network = await ensureIsolatedNetwork(clients, reg);
        // The route in (Session Manager endpoints, their groups, the kura-access profile): the stack's too.
        await awsIsolatedAccess(clients, reg).ensureRoute(network);
        await ensureAccessProfile(clients);
        await ensureIsolatedKey(clients, reg);
        await ensureIsolatedBucket(clients, account, reg);
      })();
      isolatedDeployed.set(account, p);
    }
    return p;
  };

  const defaultDeployment = await deploymentOf(opts.packagedFor);
  async function deploymentOf(policy: Policy): Promise<Deployment> {
    const key = JSON.stringify(policy);
    const known = deployments.get(key);
    if (known) return known;
    const iso = policy.isolatedAccount;
    let subnets: string[] | undefined;
    let securityGroups: string[] | undefined;
    if (iso) {
      // The isolated stack's subnets and security groups, as the isolated account's stack made them.
      const { ec2 } = await moto(iso.accountId, iso.region ?? policy.region);
      const sn = await ec2.send(
        new DescribeSubnetsCommand({ Filters: [{ Name: 'tag:kura:role', Values: ['isolated-network'] }] }),
      );
      subnets = (sn.Subnets ?? []).map((s) => s.SubnetId ?? '').sort();
      const sg = await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            {
              Name: 'group-name',
              Values: ['kura-isolated-no-ingress', 'kura-isolated-db', 'kura-isolated-access'],
            },
          ],
        }),
      );
      const id = (n: string) => sg.SecurityGroups?.find((g) => g.GroupName === n)?.GroupId;
      securityGroups = [
        id('kura-isolated-no-ingress') ?? '',
        id('kura-isolated-db') ?? '',
        id('kura-isolated-access') ?? '',
      ];
    }
    const d = buildDeployment(opts.packaged, opts.packagedFor, policy, { subnets, securityGroups });
    // Not kept until the isolated stack exists: its subnets are part of the role's policy.
    if (!iso || subnets?.length) deployments.set(key, d);
    byBucket.set(policy.vault.bucket, d);
    return d;
  }

  // --- KMS keys: moto's key ids → the key of the templates (by alias) ----------
  /** Aliases of a key, or the key of an alias (`alias/…`), from the emulator (refreshed on a miss). */
  const aliasTables = new Map<string, { byKey: Map<string, string[]>; byAlias: Map<string, string> }>();
  const aliasTable = async (account: string, reg: string, want: string) => {
    const k = `${account}/${reg}`;
    let t = aliasTables.get(k);
    if (!t || !(t.byKey.has(want) || t.byAlias.has(want))) {
      t = { byKey: new Map(), byAlias: new Map() };
      const { kms } = await moto(account, reg);
      let marker: string | undefined;
      do {
        const out = await kms.send(new ListAliasesCommand({ Marker: marker }));
        for (const a of out.Aliases ?? [])
          if (a.TargetKeyId && a.AliasName) {
            t.byKey.set(a.TargetKeyId, [...(t.byKey.get(a.TargetKeyId) ?? []), a.AliasName]);
            t.byAlias.set(a.AliasName, a.TargetKeyId);
          }
        marker = out.Truncated ? out.NextMarker : undefined;
      } while (marker);
      aliasTables.set(k, t);
    }
    return t;
  };
  const bucketKeys = new Map<string, string | null>();
  /**
   * The account that owns a bucket: the vault is the backup account's, an
   * isolated bucket its account's, and with sources a content source or the
   * log landing the source account the policy names as its owner (so kura's
   * own role reading it is a cross-account request that the source bucket's
   * policy would have to admit, as on AWS); any other bucket the caller's.
   */
  const bucketAccount = (bucket: string, caller: string, d?: Deployment): string => {
    if (byBucket.get(bucket)) return BACKUP_ACCOUNT;
    const isolated = /^kura-isolated-(\d{12})-/.exec(bucket)?.[1];
    if (isolated) return isolated;
    const policy = d?.policy;
    if (policy?.sources?.length) {
      const named = [
        ...policy.content,
        ...(policy.logs ? [{ ...policy.logs, source: policy.logs.landing }] : []),
      ];
      const owned = named.find((n) => /^s3:\/\/([^/]+)/.exec(n.source)?.[1] === bucket);
      const owner = owned && owningAccount(policy, owned);
      if (owner) return owner.accountId;
    }
    return caller;
  };
  /** The key a KMS need names, as resource ARN, owner and key policy; undefined: no KMS key is used. */
  const resolveKey = async (ref: string, caller: string, reg: string, d: Deployment) => {
    let keyRef = ref;
    let account = caller;
    if (ref.startsWith('bucket:')) {
      const bucket = ref.slice('bucket:'.length);
      account = bucketAccount(bucket, caller, d);
      if (!bucketKeys.has(bucket)) {
        const { s3 } = await moto(account, reg);
        try {
          const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
          const rule = enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
          bucketKeys.set(
            bucket,
            rule?.SSEAlgorithm === 'aws:kms' ? (rule.KMSMasterKeyID ?? 'alias/aws/s3') : null,
          );
        } catch {
          bucketKeys.set(bucket, null);
        }
      }
      const k = bucketKeys.get(bucket);
      if (!k) return undefined;
      keyRef = k;
    }
    if (keyRef.startsWith('arn:')) {
      account = keyRef.split(':')[4] ?? account;
      reg = keyRef.split(':')[3] ?? reg;
    }
    const tail = keyRef.replace(/^arn:aws:kms:[^:]*:\d*:/, '');
    let aliases: string[];
    const table = await aliasTable(account, reg, tail.replace(/^key\//, ''));
    // An alias names its key; an alias that names nothing is the service's NotFound to answer.
    const keyId = tail.startsWith('alias/') ? table.byAlias.get(tail) : tail.replace(/^key\//, '');
    if (!keyId) return undefined;
    aliases = tail.startsWith('alias/') ? [tail] : (table.byKey.get(keyId) ?? []);
    for (const dep of knownDeployments(d))
      for (const [logical, k] of dep.keyPolicies)
        if (k.alias && aliases.includes(k.alias) && k.account === account)
          return {
            arn: keyArn(account, reg, logical),
            account,
            policy: { name: `${logical} key policy`, policy: k.policy },
          };
    // A key the templates do not declare (a database's own key, the DR key): its real key policy.
    return {
      arn: `arn:aws:kms:${reg}:${account}:key/${keyId}`,
      account,
      policy: await keyPolicyOf(account, reg, keyId),
    };
  };
  const keyPolicies = new Map<string, Promise<ResourcePolicy>>();
  const keyPolicyOf = (account: string, reg: string, keyId: string): Promise<ResourcePolicy> => {
    const k = `${account}/${reg}/${keyId}`;
    let p = keyPolicies.get(k);
    if (!p) {
      p = (async () => {
        const { kms } = await moto(account, reg);
        try {
          const out = await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }));
          return { name: `key policy of ${keyId}`, policy: JSON.parse(out.Policy ?? '') as PolicyDocument };
        } catch {
          return { name: 'default key policy', policy: DEFAULT_KEY_POLICY(account) };
        }
      })();
      keyPolicies.set(k, p);
    }
    return p;
  };
  /**
   * An EBS snapshot as the caller sees it (its own, or one shared with it: else
   * the backup account's): owner and key.
   */
  const ebsSnapshot = async (id: string, caller: string, reg: string) => {
    for (const account of [caller, BACKUP_ACCOUNT]) {
      const { ec2 } = await moto(account, reg);
      const out = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })).catch(() => undefined);
      const s = out?.Snapshots?.[0];
      if (s) return { owner: s.OwnerId, kmsKeyId: s.KmsKeyId || undefined };
    }
    return undefined;
  };
  /** The keys of an image's encrypted snapshots, as their owner's DescribeSnapshots says (key ARNs). */
  const imageKeys = async (arn: string, caller: string): Promise<string[]> => {
    const reg = arn.split(':')[3] || region;
    const id = arn.split('/').pop() ?? '';
    const { ec2 } = await moto(caller, reg);
    const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [id] })).catch(() => undefined))
      ?.Images?.[0];
    const ids = (image?.BlockDeviceMappings ?? []).flatMap((b) =>
      b.Ebs?.SnapshotId ? [b.Ebs.SnapshotId] : [],
    );
    if (!image?.OwnerId || !ids.length) return [];
    const owner = await moto(image.OwnerId, reg);
    const out = await owner.ec2
      .send(new DescribeSnapshotsCommand({ SnapshotIds: ids }))
      .catch(() => undefined);
    return [
      ...new Set((out?.Snapshots ?? []).flatMap((s) => (s.Encrypted && s.KmsKeyId ? [s.KmsKeyId] : []))),
    ];
  };
  /** The key a snapshot is encrypted with (a copy or a volume made from it needs grants on it), as `arn` or undefined. */
  const snapshotKey = async (arn: string, caller: string, reg: string): Promise<string | undefined> => {
    if (arn.startsWith('arn:aws:ec2:'))
      return (await ebsSnapshot(arn.split('/').pop() ?? '', caller, arn.split(':')[3] || reg))?.kmsKeyId;
    const account = arn.split(':')[4] ?? BACKUP_ACCOUNT;
    const { rds } = await moto(account, arn.split(':')[3] || reg);
    const cluster = arn.includes(':cluster-snapshot:');
    try {
      const out = cluster
        ? await rds.send(
            new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: arn, IncludeShared: true }),
          )
        : await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: arn, IncludeShared: true }));
      const s =
        'DBClusterSnapshots' in out
          ? out.DBClusterSnapshots?.[0]
          : (out as { DBSnapshots?: { KmsKeyId?: string }[] }).DBSnapshots?.[0];
      return s?.KmsKeyId || undefined;
    } catch {
      return undefined;
    }
  };

  /**
   * The tags AWS presents as aws:ResourceTag/*; null when the resource does not
   * exist (AWS then answers the service's own not-found error, not a refusal).
   */
  const tagsOf = async (
    arn: string,
    account: string,
    reg: string,
  ): Promise<Record<string, string> | null> => {
    const c = await moto(account, arn.split(':')[3] || reg);
    const gone = (e: unknown) => /NotFound|NotFoundFault/.test(String((e as Error).name));
    try {
      if (arn.startsWith('arn:aws:rds:')) {
        const [, , , , , type = '', id = ''] = arn.split(':');
        const probe =
          type === 'snapshot'
            ? c.rds
                .send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }))
                .then((o) => o.DBSnapshots?.length)
            : type === 'cluster-snapshot'
              ? c.rds
                  .send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id }))
                  .then((o) => o.DBClusterSnapshots?.length)
              : type === 'db'
                ? c.rds
                    .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))
                    .then((o) => o.DBInstances?.length)
                : type === 'cluster'
                  ? c.rds
                      .send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))
                      .then((o) => o.DBClusters?.length)
                  : Promise.resolve(1);
        if (!(await probe)) return null;
        const out = await c.rds.send(new ListTagsForResourceCommand({ ResourceName: arn }));
        return Object.fromEntries((out.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      }
      if (arn.startsWith('arn:aws:ec2:')) {
        const id = arn.split('/').pop() ?? '';
        const probe = id.startsWith('ami-')
          ? c.ec2.send(new DescribeImagesCommand({ ImageIds: [id] })).then((o) => o.Images?.length)
          : id.startsWith('snap-')
            ? c.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })).then((o) => o.Snapshots?.length)
            : Promise.resolve(1);
        if (!(await probe)) return null;
        const out = await c.ec2.send(
          new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] }),
        );
        return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      }
      if (arn.startsWith('arn:aws:secretsmanager:')) {
        const out = await c.secrets.send(new DescribeSecretCommand({ SecretId: arn }));
        return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      }
    } catch (err) {
      if (gone(err) || /ResourceNotFound/.test(String((err as Error).name))) return null;
      throw err;
    }
    return {};
  };

  /**
   * Every deployment the layer knows, `d` first: a key or a role of kura's
   * templates is governed by its deployed policy whoever calls (AWS evaluates
   * the vault key's policy for another account's administrator too), and a
   * deployment is known by its vault before the isolated stack exists.
   */
  const knownDeployments = (d: Deployment) => new Set([d, ...deployments.values(), ...byBucket.values()]);

  const resourcePolicyFor = (
    need: { resource: string },
    d: Deployment,
    kms?: ResourcePolicy,
  ): ResourcePolicy | undefined => {
    if (kms) return kms;
    const r = need.resource;
    if (r.startsWith('arn:aws:s3:::')) {
      const bucket = r.slice('arn:aws:s3:::'.length).split('/')[0] ?? '';
      const dep = byBucket.get(bucket) ?? d;
      const p = dep.bucketPolicies.get(bucket);
      return p
        ? {
            name: bucket === dep.policy.vault.bucket ? 'VaultBucketPolicy' : 'RestoreBucketPolicy',
            policy: p,
          }
        : undefined;
    }
    if (r.startsWith('arn:aws:iam::') && r.includes(':role/')) {
      const role = [...knownDeployments(d)].map((x) => x.roles.get(r)).find(Boolean);
      if (role) return { name: `${role.logicalId} trust policy`, policy: role.trust };
      const name = r.split('/').pop() ?? '';
      const account = r.split(':')[4] ?? '';
      if (OPERATOR_ROLES.includes(name))
        return {
          name: `${name} trust policy (operator)`,
          policy: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'Administrators',
                Effect: 'Allow',
                Principal: { AWS: [`arn:aws:iam::${BACKUP_ACCOUNT}:root`, `arn:aws:iam::${account}:root`] },
                Action: 'sts:AssumeRole',
                Resource: '*',
              },
            ],
          },
        };
      return {
        name: `${r} (not a role of kura's templates)`,
        policy: { Version: '2012-10-17', Statement: [] },
      };
    }
    const other = d.otherResourcePolicies.get(r);
    return other ? { name: `${r.split(':').pop()} policy`, policy: other } : undefined;
  };

  /** The role inside an instance profile, as the caller's account holds it. */
  const profileRole = async (profile: string, caller: string, reg: string) => {
    const { iam } = await moto(caller, reg);
    const name = profile.split('/').pop() ?? profile;
    const out = await iam
      .send(new GetInstanceProfileCommand({ InstanceProfileName: name }))
      .catch(() => undefined);
    return out?.InstanceProfile?.Roles?.[0]?.Arn;
  };

  const decide = async (
    principal: Principal,
    d: Deployment,
    asked: Need,
    caller: string,
    reg: string,
  ): Promise<NeedRecord> => {
    let need = asked;
    if (need.kmsOfImage !== undefined) {
      // Each snapshot key of the image (another account's, when it shared the image): every one must allow.
      const keys = await imageKeys(need.kmsOfImage, caller);
      const one = { ...need, kmsOfImage: undefined };
      if (!keys.length)
        return {
          action: need.action,
          resource: `no KMS key (${need.kmsOfImage} has no encrypted snapshot)`,
          allowed: true,
          reason: 'no key is used',
          deciding: [],
        };
      const each = await Promise.all(keys.map((kms) => decide(principal, d, { ...one, kms }, caller, reg)));
      return each.find((x) => !x.allowed) ?? (each[0] as NeedRecord);
    }
    if (need.passRoleOfProfile !== undefined) {
      const role = await profileRole(need.passRoleOfProfile, caller, reg);
      if (!role)
        return {
          action: need.action,
          resource: `no role (instance profile ${need.passRoleOfProfile}: none, or empty)`,
          allowed: true,
          reason: 'the service answers its own error for a profile that does not exist',
          deciding: [],
        };
      need = {
        ...need,
        resource: role,
        context: { ...need.context, 'iam:PassedToService': 'ec2.amazonaws.com' },
      };
    }
    let resource = need.resource;
    let account =
      need.account ??
      (resource.startsWith('arn:aws:s3:::')
        ? bucketAccount(resource.slice(13).split('/')[0] ?? '', caller, d)
        : resource.split(':')[4] || caller);
    // RDS and EC2 have no resource policies: a shared snapshot or image is authorized
    // by the caller's own policies (sharing is an attribute of the resource).
    if (/^arn:aws:(rds|ec2):/.test(resource)) account = caller;
    let kmsPolicy: ResourcePolicy | undefined;
    const context = { ...need.context };
    if (need.kmsOfSnapshot !== undefined) {
      const key = await snapshotKey(need.kmsOfSnapshot, caller, reg);
      if (!key)
        return {
          action: need.action,
          resource: `no KMS key (${need.kmsOfSnapshot} is not encrypted with a customer key)`,
          allowed: true,
          reason: 'no key is used',
          deciding: [],
        };
      need = { ...need, kms: key };
    }
    if (need.kms !== undefined) {
      const key = await resolveKey(need.kms, caller, reg, d);
      if (!key)
        return {
          action: need.action,
          resource: `no KMS key (${need.kms}: none, or none that exists)`,
          allowed: true,
          reason: 'no key is used',
          deciding: [],
        };
      resource = key.arn;
      account = key.account;
      kmsPolicy = key.policy;
    }
    if (need.tags) {
      const tags = await tagsOf(resource, caller, reg);
      if (tags === null)
        return {
          action: need.action,
          resource,
          allowed: true,
          reason: 'the resource does not exist: the service answers its own not-found error',
          deciding: [],
        };
      for (const [k, v] of Object.entries(tags)) context[`aws:ResourceTag/${k}`] = v;
    }
    if (need.imageOwner) {
      // The image's owner, as its own account sees it (a shared image is another account's).
      let owner: string | undefined;
      for (const account of [caller, BACKUP_ACCOUNT]) {
        const { ec2 } = await moto(account, reg);
        const out = await ec2
          .send(new DescribeImagesCommand({ ImageIds: [need.imageOwner] }))
          .catch(() => undefined);
        // AWS presents an Amazon-owned image's owner as "amazon", not as an account id.
        const image = out?.Images?.[0];
        owner = image?.ImageOwnerAlias === 'amazon' ? 'amazon' : image?.OwnerId;
        if (owner) break;
      }
      if (owner) context['ec2:Owner'] = owner;
    }
    if (need.snapshotOwner) {
      const owner = (await ebsSnapshot(need.snapshotOwner, caller, reg))?.owner;
      if (owner) context['ec2:Owner'] = owner;
    }
    // A role's trust policy governs assuming it (sts:*), not passing or reading it: AWS does not
    // weigh it for iam:PassRole, and the simulator would treat it as a policy that must allow.
    const onRole = /^arn:aws:iam::\d*:role\//.test(resource) && !need.action.startsWith('sts:');
    const rp = onRole ? undefined : resourcePolicyFor({ resource }, d, kmsPolicy);
    // Same account, no resource policy, an identity policy that allows everything and denies
    // nothing: IAM's answer is Allow without a simulation (most of the operator's fixture calls).
    const admin = principal.policies[0];
    if (
      !rp &&
      account === principal.account &&
      principal.policies.length === 1 &&
      admin?.policy === ADMINISTRATOR_ACCESS
    ) {
      const by = `${admin.name}#AdministratorAccess`;
      return { action: need.action, resource, allowed: true, reason: `allowed by ${by}`, deciding: [by] };
    }
    const decision: Decision = await evaluate(
      principal,
      { action: need.action, resource, resourceAccount: account, context },
      rp,
    );
    return {
      action: need.action,
      resource,
      allowed: decision.allowed,
      reason: decision.reason,
      deciding: decision.deciding,
    };
  };

  const record = (r: RequestRecord) => {
    records.push(r);
    appendFileSync(journal, `${JSON.stringify(r)}\n`);
  };

  const deniedMessage = (principal: Principal, op: string, denied: NeedRecord[]) =>
    `kura iam: ${principal.label} (${principal.arn}) is not authorized: ${op} needs ${denied
      .map((n) => `${n.action} on ${n.resource}: ${n.reason}`)
      .join('; ')}`;

  const accessDenied = (r: { protocol: AwsRequest['protocol'] }, message: string, n: number) => {
    const code =
      r.protocol === 'json'
        ? 'AccessDeniedException'
        : r.protocol === 'ec2'
          ? 'UnauthorizedOperation'
          : 'AccessDenied';
    return cannedError(r.protocol, 403, code, message.replace(/&/g, '&amp;').replace(/</g, '&lt;'), n);
  };

  const forward = (req: IncomingMessage, body: Buffer) => forwardRequest(target, req, body);

  /** Credentials for a role of the templates, assumed by an AWS service under the role's trust policy. */
  const issue = async (
    roleArn: string,
    service: string,
    d: Deployment,
    worker: string,
    sessionName: string,
    sourceAccount = BACKUP_ACCOUNT,
  ): Promise<Session> => {
    const role = d.roles.get(roleArn);
    if (!role) throw new Error(`kura iam: ${roleArn} is not a role of the templates`);
    const svc: Principal = { arn: service, account: '', label: service, policies: [], service: true };
    const decision = await evaluate(
      svc,
      {
        action: 'sts:AssumeRole',
        resource: roleArn,
        resourceAccount: role.account,
        context: { 'aws:SourceAccount': sourceAccount },
      },
      { name: `${role.logicalId} trust policy`, policy: role.trust },
    );
    const n = ++seq;
    const needRec: NeedRecord = {
      action: 'sts:AssumeRole',
      resource: roleArn,
      allowed: decision.allowed,
      reason: decision.reason,
      deciding: decision.deciding,
    };
    const rec: RequestRecord = {
      seq: n,
      worker,
      principal: service,
      principalArn: service,
      deployment: d.id,
      operation: 'sts:AssumeRole',
      needs: [needRec],
      denied: !decision.allowed,
    };
    if (!decision.allowed) {
      rec.message = `kura iam: ${service} may not assume ${roleArn}: ${decision.reason}`;
      record(rec);
      throw new Error(rec.message);
    }
    record(rec);
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }));
    const creds: Creds = {
      accessKeyId: out.Credentials?.AccessKeyId ?? '',
      secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
      sessionToken: out.Credentials?.SessionToken,
    };
    const s: Session = { principal: rolePrincipal(role, sessionName), deployment: d, creds, worker };
    sessions.set(creds.accessKeyId, s);
    return s;
  };

  const control = async (
    _req: IncomingMessage,
    body: Buffer,
    url: URL,
  ): Promise<{ status: number; json: unknown }> => {
    const op = url.pathname.slice(CONTROL_PREFIX.length);
    const input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    const worker = String(input.worker ?? url.searchParams.get('worker') ?? '0');
    if (op === 'session') {
      const kind = String(input.kind);
      const name = String(input.name ?? '');
      if (kind === 'operator') {
        const account = String(input.account ?? BACKUP_ACCOUNT);
        const c = await credsFor(account, worker);
        const creds = { ...c };
        sessions.set(creds.accessKeyId, { principal: operator(account, 'kura-admin'), creds, worker });
        return { status: 200, json: creds };
      }
      const policy = input.policy as Policy;
      if (kind === 'function' && ISOLATED_USERS.includes(name) && policy.isolatedAccount)
        await deployIsolatedAccount(
          policy.isolatedAccount.accountId,
          policy.isolatedAccount.region ?? policy.region,
        );
      const d = await deploymentOf(policy);
      const roleArn =
        kind === 'function'
          ? d.functionRoles[name]
          : kind === 'state-machine'
            ? d.stateMachineRoles[name]
            : d.schedulerRole;
      if (!roleArn) return { status: 400, json: { message: `kura iam: no ${kind} ${name} in the template` } };
      const service =
        kind === 'function'
          ? 'lambda.amazonaws.com'
          : kind === 'state-machine'
            ? `states.${d.region}.amazonaws.com`
            : 'scheduler.amazonaws.com';
      const s = await issue(roleArn, service, d, worker, name || kind);
      return { status: 200, json: { ...s.creds, roleArn } };
    }
    if (op === 'check') {
      // A call an AWS service makes with a role (Scheduler or Step Functions invoking a function).
      const d = await deploymentOf(input.policy as Policy);
      const kind = String(input.kind);
      const roleArn = kind === 'scheduler' ? d.schedulerRole : d.stateMachineRoles[String(input.name)];
      const role = roleArn ? d.roles.get(roleArn) : undefined;
      if (!role)
        return {
          status: 400,
          json: { message: `kura iam: no ${kind} ${String(input.name ?? '')} role in the template` },
        };
      const principal = rolePrincipal(role, kind);
      const fnArn = d.functionArns[String(input.function)] ?? String(input.resource);
      const rec = await decide(
        principal,
        d,
        { action: String(input.action ?? 'lambda:InvokeFunction'), resource: fnArn },
        BACKUP_ACCOUNT,
        d.region,
      );
      const r: RequestRecord = {
        seq: ++seq,
        worker,
        principal: principal.label,
        principalArn: principal.arn,
        deployment: d.id,
        operation: String(input.action ?? 'lambda:InvokeFunction'),
        needs: [rec],
        denied: !rec.allowed,
      };
      if (!rec.allowed) r.message = deniedMessage(principal, r.operation, [rec]);
      record(r);
      return { status: rec.allowed ? 200 : 403, json: r };
    }
    if (op === 'stand-in-databases') {
      // The databases this worker's restored endpoints stand for (none: unreachable).
      standIns.set(worker, (input.databases as StandInDatabase[] | undefined) ?? []);
      return { status: 200, json: { databases: standIns.get(worker)?.length ?? 0 } };
    }
    if (op === 'mark') return { status: 200, json: { seq } };
    if (op === 'requests') {
      // What a test's requests were authorized on (its worker's, after a mark).
      const since = Number(url.searchParams.get('since') ?? 0);
      return { status: 200, json: records.filter((r) => r.seq > since && r.worker === worker) };
    }
    if (op === 'withhold') {
      // Until withheld again with none: this worker's requests are refused these actions.
      const actions = (input.actions as string[] | undefined) ?? [];
      if (actions.length) withheld.set(worker, new Set(actions));
      else withheld.delete(worker);
      return { status: 200, json: { withheld: actions } };
    }
    if (op === 'denials') {
      const since = Number(url.searchParams.get('since') ?? 0);
      return {
        status: 200,
        json: records.filter((r) => r.denied && !r.expected && r.seq > since && r.worker === worker),
      };
    }
    if (op === 'expect') {
      // The caller made these denials on purpose (a test of a refusal).
      const since = Number(input.since ?? 0);
      const hits = records.filter((r) => r.denied && r.seq > since && r.worker === worker);
      for (const r of hits) r.expected = true;
      appendFileSync(journal, `${JSON.stringify({ expected: hits.map((h) => h.seq) })}\n`);
      return { status: 200, json: hits };
    }
    if (op === 'evaluate') {
      // The must-never checks: one authorization against a deployment, nothing sent.
      const d = await deploymentOf(input.policy as Policy);
      const role = d.roles.get(String(input.roleArn));
      if (!role) return { status: 400, json: { message: `no role ${String(input.roleArn)}` } };
      const rec = await decide(rolePrincipal(role, 'check'), d, input.need as Need, role.account, d.region);
      return { status: 200, json: rec };
    }
    return { status: 404, json: { message: `unknown control operation ${op}` } };
  };

  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://front.invalid');
      if (url.pathname.startsWith(CONTROL_PREFIX)) {
        const out = await control(req, body, url).catch((e: Error) => ({
          status: 403,
          json: { message: e.message },
        }));
        res.writeHead(out.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out.json));
        return;
      }
      if (url.pathname.startsWith('/moto-api')) {
        const up = await forward(req, body);
        res.writeHead(up.status, up.headers);
        res.end(up.body);
        return;
      }
      const r = parseRequest(req, body);
      const session = sessions.get(r.accessKey);
      const worker = session?.worker ?? /-w(\w+)$/.exec(r.accessKey)?.[1] ?? '0';
      const principal =
        session?.principal ??
        operator(BACKUP_ACCOUNT, opts.packagedFor.vault.administrators[0] ?? 'kura-admin');
      const bucketDep = r.bucket ? byBucket.get(r.bucket) : undefined;
      const d = session?.deployment ?? bucketDep ?? defaultDeployment;
      const caller = principal.account;
      const n = ++seq;
      const rec: RequestRecord = {
        seq: n,
        worker,
        principal: principal.label,
        principalArn: principal.arn,
        deployment: d.id,
        operation: r.operation,
        needs: [],
        denied: false,
      };
      let needs: Need[];
      try {
        needs = needsOf(r, { account: caller, region: r.region });
      } catch (err) {
        if (!(err instanceof UnmappedCommandError)) throw err;
        rec.denied = true;
        rec.message = err.message;
        record(rec);
        const c = accessDenied(r, err.message, n);
        res.writeHead(c.status, { 'content-type': c.contentType });
        res.end(c.body);
        return;
      }
      rec.needs = await Promise.all(needs.map((need) => decide(principal, d, need, caller, r.region)));
      const withholding = withheld.get(worker);
      if (withholding)
        rec.needs = rec.needs.map((n) =>
          n.allowed && withholding.has(n.action)
            ? {
                ...n,
                allowed: false,
                reason: 'withheld by the test (a role without this grant)',
                deciding: [],
              }
            : n,
        );
      const denied = rec.needs.filter((x) => !x.allowed);
      if (denied.length) {
        rec.denied = true;
        rec.message = deniedMessage(principal, r.operation, denied);
        record(rec);
        const c = accessDenied(r, rec.message, n);
        res.writeHead(c.status, { 'content-type': c.contentType, 'x-amzn-requestid': `iam-${n}` });
        res.end(c.body);
        return;
      }
      record(rec);
      const runner =
        r.operation === 'lambda:Invoke' ? probeRunnerOf(rec.needs[0]?.resource ?? '', d) : undefined;
      if (runner) {
        // Lambda cannot run a function in the emulator's VPC: the runner is played in-process,
        // as its own role (assumed by Lambda under the role's trust policy), through this layer.
        const s = await issue(runner.roleArn, 'lambda.amazonaws.com', d, worker, runner.name, runner.account);
        const out = await invokeProbeRunner({
          ...runner,
          endpoint: self,
          credentials: s.creds,
          payload: body,
          databases: standIns.get(worker) ?? [],
        });
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-amz-executed-version': '$LATEST',
          ...(out.functionError ? { 'x-amz-function-error': out.functionError } : {}),
        });
        res.end(out.payload);
        return;
      }
      const up = await forward(req, body);
      if (r.operation === 'sts:AssumeRole' && up.status === 200) {
        // Credentials AWS hands out for the role: requests signed with them are that role's.
        const xml = up.body.toString('utf8');
        const roleArn = r.form.get('RoleArn') ?? '';
        const role = d.roles.get(roleArn);
        const name = roleArn.split('/').pop() ?? '';
        const p = role
          ? rolePrincipal(role, r.form.get('RoleSessionName') ?? 'kura')
          : operator(roleArn.split(':')[4] ?? '', name);
        const accessKeyId = xmlValue(xml, 'AccessKeyId');
        if (accessKeyId)
          sessions.set(accessKeyId, {
            principal: p,
            deployment: session?.deployment ?? d,
            worker,
            creds: {
              accessKeyId,
              secretAccessKey: xmlValue(xml, 'SecretAccessKey') ?? '',
              sessionToken: xmlValue(xml, 'SessionToken'),
            },
          });
      }
      if (r.operation === 's3:PutBucketEncryption' || r.operation === 's3:CreateBucket')
        bucketKeys.delete(r.bucket ?? '');
      if (r.operation === 'kms:CreateAlias') aliasTables.clear();
      relay(res, r.method, up);
    } catch (err) {
      // A fault of the front layer itself: loud on stderr, and an error the SDK can read.
      process.stderr.write(`kura iam front layer: ${(err as Error).stack ?? err}\n`);
      if (!res.headersSent) {
        const c = cannedError(
          'json',
          500,
          'InternalFailure',
          `kura iam front layer: ${(err as Error).message}`,
          0,
        );
        res.writeHead(500, { 'content-type': c.contentType });
        res.end(c.body);
      } else res.destroy();
    }
  });
  /** The isolated stack's probe runner, when `fnArn` names it in an isolated account this layer deployed. */
  function probeRunnerOf(fnArn: string, d: Deployment): ProbeRunnerInvocation | undefined {
    const [, , , reg = '', account = '', , name = ''] = fnArn.split(':');
    const iso = d.policy.isolatedAccount;
    const runnerName = iso?.probeRunner ?? 'kura-probe-runner';
    if (!iso || account !== iso.accountId || name !== runnerName || !isolatedDeployed.has(account))
      return undefined;
    return { account, region: reg, name, roleArn: `arn:aws:iam::${account}:role/${runnerName}` };
  }

  const { endpoint, close } = await listenOnLoopback(server);
  self = endpoint;
  return { endpoint, records, close };
}
