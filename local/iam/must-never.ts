// Local runtime (IAM front layer): what no kura role may ever do, as probes
// evaluated against the deployed policies (nothing is sent anywhere). The
// tests (test/deploy/must-never.test.ts) and `kura report permissions` run
// the same list. Each probe is one authorization that must be refused (or,
// for the isolated role's trust, allowed exactly for ISOLATED_USERS' roles).
import type { Need } from './actions.ts';
import { ISOLATED_USERS, KEY_DESTRUCTION, stackParameters } from '../../deploy/template.ts';
import { BACKUP_ACCOUNT, type Deployment, keyArn } from './deployment.ts';
import { evaluate, type Principal } from './evaluate.ts';
import { rolePrincipal } from './principal-of.ts';
import { RESTORE_ITEM_GRANTS } from './restore-item-grants.ts';
import { SOURCE_USERS } from '../../deploy/source-stack.ts';
import { owningAccount, sourceAccounts } from '../../shared/policy/sources.ts';

export interface Probe {
  /** Role ARN (a role of the templates) or a service/other principal ARN. */
  principal: string;
  need: Need & { account: string };
  /**
   * `open`: a resource policy that admits the principal to everything (what the role's own policy allows, alone);
   * `default-key`: a key with KMS's default key policy (its account's IAM policies decide).
   */
  resourcePolicy?: 'bucket' | 'vault-key' | 'trust' | 'open' | 'default-key';
  /** What must happen: almost always `deny`. */
  expect: 'deny' | 'allow';
  /**
   * The principal's own account grants it everything (AdministratorAccess, as
   * an administrator of a source account could grant its kura-source role):
   * what the resource policy alone refuses.
   */
  anyIdentity?: boolean;
}

export interface MustNever {
  id: string;
  title: string;
  probes: (d: Deployment) => Probe[];
}

export interface MustNeverResult {
  id: string;
  title: string;
  holds: boolean;
  /** Probes whose decision was not the expected one, with the statement that decided. */
  violations: string[];
  probes: number;
  /** The principals the check was probed for (role logical ids). */
  roles: string[];
}

/** The break-glass role's name as deployed without overrides (the stack parameter's default). */
const BREAK_GLASS_DEFAULT = Object.values(stackParameters())[0]?.Default as string;

const kuraRoles = (d: Deployment) =>
  [...d.roles.values()].filter(
    (r) => r.logicalId !== 'RestoreRole' || r.source === 'template' || r.source === 'isolated-template',
  );

/** Each need, in the backup account, refused to each kura role of that account. */
const deniedToBackupRoles = (d: Deployment, needs: Need[]): Probe[] =>
  kuraRoles(d)
    .filter((role) => role.account === BACKUP_ACCOUNT)
    .flatMap((role) =>
      needs.map((need) => ({
        principal: role.arn,
        need: { ...need, account: BACKUP_ACCOUNT },
        expect: 'deny' as const,
      })),
    );

const UNMANAGED = { 'aws:ResourceTag/env': 'prod' };

/** `actions` (RDS snapshot, RDS cluster snapshot, image, EBS snapshot) on recovery points kura did not make. */
function onForeignPoints(
  d: Deployment,
  [rds, cluster, image, ebs]: [string, string, string, string],
): Need[] {
  const r = d.region;
  const a = BACKUP_ACCOUNT;
  return [
    { action: rds, resource: `arn:aws:rds:${r}:${a}:snapshot:prod-manual`, context: UNMANAGED },
    { action: cluster, resource: `arn:aws:rds:${r}:${a}:cluster-snapshot:prod-manual`, context: UNMANAGED },
    { action: image, resource: `arn:aws:ec2:${r}::image/ami-0prod`, context: UNMANAGED },
    { action: ebs, resource: `arn:aws:ec2:${r}::snapshot/snap-0prod`, context: UNMANAGED },
  ];
}
const MANAGED = { 'aws:ResourceTag/kura:managed': 'true', 'aws:ResourceTag/kura:class': 'database' };

export const MUST_NEVER: MustNever[] = [
  {
    id: 'no-delete-foreign-recovery-points',
    title: 'no kura role can delete or overwrite a recovery point that kura did not create',
    probes: (d) => {
      const a = BACKUP_ACCOUNT;
      const needs: Need[] = [
        ...onForeignPoints(d, [
          'rds:DeleteDBSnapshot',
          'rds:DeleteDBClusterSnapshot',
          'ec2:DeregisterImage',
          'ec2:DeleteSnapshot',
        ]),
        { action: 's3:DeleteObjectVersion', resource: `arn:aws:s3:::${d.policy.vault.bucket}/content/x` },
        {
          action: 's3:BypassGovernanceRetention',
          resource: `arn:aws:s3:::${d.policy.vault.bucket}/content/x`,
        },
        { action: 's3:PutObjectRetention', resource: `arn:aws:s3:::${d.policy.vault.bucket}/content/x` },
      ];
      return kuraRoles(d).flatMap((role) =>
        needs.map((need) => ({
          principal: role.arn,
          need: { ...need, account: a },
          resourcePolicy: need.action.startsWith('s3:') ? ('bucket' as const) : undefined,
          expect: 'deny' as const,
        })),
      );
    },
  },
  {
    id: 'no-kura-tags-on-existing',
    title: 'no kura role can add kura:managed or change kura:* identity tags on an existing resource',
    probes: (d) => {
      const r = d.region;
      const a = BACKUP_ACCOUNT;
      const add = { 'aws:TagKeys': ['kura:managed'], 'aws:RequestTag/kura:managed': 'true' };
      const change = { 'aws:TagKeys': ['kura:class'], 'aws:RequestTag/kura:class': 'content' };
      const needs: Need[] = [
        {
          action: 'rds:AddTagsToResource',
          resource: `arn:aws:rds:${r}:${a}:snapshot:prod-manual`,
          context: { ...UNMANAGED, ...add },
        },
        {
          action: 'rds:AddTagsToResource',
          resource: `arn:aws:rds:${r}:${a}:snapshot:kura-db-202601010400`,
          context: { ...MANAGED, ...change },
        },
        {
          action: 'ec2:CreateTags',
          resource: `arn:aws:ec2:${r}::image/ami-0prod`,
          context: { ...UNMANAGED, ...add },
        },
        {
          action: 'ec2:CreateTags',
          resource: `arn:aws:ec2:${r}::snapshot/snap-0prod`,
          context: { ...UNMANAGED, ...add },
        },
        {
          action: 'ec2:CreateTags',
          resource: `arn:aws:ec2:${r}::image/ami-0kura`,
          context: { ...MANAGED, ...change },
        },
      ];
      return deniedToBackupRoles(d, needs);
    },
  },
  {
    id: 'no-vault-configuration-changes',
    title: "no kura role can change the vault's bucket policy, lifecycle, Object Lock or encryption",
    probes: (d) =>
      kuraRoles(d).flatMap((role) =>
        [
          's3:PutBucketPolicy',
          's3:DeleteBucketPolicy',
          's3:PutLifecycleConfiguration',
          's3:PutBucketObjectLockConfiguration',
          's3:PutEncryptionConfiguration',
          's3:PutBucketVersioning',
          's3:DeleteBucket',
        ].map((action) => ({
          principal: role.arn,
          need: { action, resource: `arn:aws:s3:::${d.policy.vault.bucket}`, account: BACKUP_ACCOUNT },
          resourcePolicy: 'bucket' as const,
          expect: 'deny' as const,
        })),
      ),
  },
  {
    id: 'only-break-glass-destroys-the-vault-key',
    title:
      'no one but the break-glass role, not even an account administrator, can disable the vault key or schedule its deletion',
    probes: (d) => {
      const account = BACKUP_ACCOUNT;
      const role = (name: string) => `arn:aws:iam::${account}:role/${name}`;
      const admins = [role('kura-admin'), role('kura-deployer'), ...kuraRoles(d).map((r) => r.arn)];
      const key = keyArn(account, d.region, 'VaultKey');
      return KEY_DESTRUCTION.flatMap((action) => [
        ...admins.map((principal) => ({
          principal,
          need: { action, resource: key, account },
          resourcePolicy: 'vault-key' as const,
          expect: 'deny' as const,
        })),
        {
          principal: role(BREAK_GLASS_DEFAULT),
          need: { action, resource: key, account },
          resourcePolicy: 'vault-key' as const,
          expect: 'allow' as const,
        },
      ]);
    },
  },
  {
    id: 'no-vault-key-destruction',
    title: 'no kura role can schedule deletion of, disable, or re-police the vault key',
    probes: (d) =>
      kuraRoles(d).flatMap((role) =>
        ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:PutKeyPolicy', 'kms:DisableKeyRotation'].map(
          (action) => ({
            principal: role.arn,
            need: { action, resource: keyArn(BACKUP_ACCOUNT, d.region, 'VaultKey'), account: BACKUP_ACCOUNT },
            resourcePolicy: 'vault-key' as const,
            expect: 'deny' as const,
          }),
        ),
      ),
  },
  {
    id: 'only-restore-and-validation-assume-the-isolated-role',
    title:
      'only the restore roles (plan and each class), the validation roles (plan, report and each class) and content-restore-shard can assume exactly the configured isolated role, with its ExternalId',
    probes: (d) => {
      const iso = d.policy.isolatedAccount;
      if (!iso) return [];
      // The content restore's shard children stream into the isolated bucket through it too.
      const trusted = Object.keys(ISOLATED_USERS).map((fn) => d.functionRoles[fn]);
      const assume = (resource: string, externalId = iso.externalId): Need & { account: string } => ({
        action: 'sts:AssumeRole',
        resource,
        account: resource.split(':')[4] ?? '',
        context: externalId ? { 'sts:ExternalId': externalId } : {},
      });
      const out: Probe[] = [];
      for (const role of kuraRoles(d).filter((r) => r.account === BACKUP_ACCOUNT)) {
        const ok = trusted.includes(role.arn);
        out.push({
          principal: role.arn,
          need: assume(iso.roleArn),
          resourcePolicy: 'trust',
          expect: ok ? 'allow' : 'deny',
        });
        out.push({
          principal: role.arn,
          need: assume(iso.roleArn, 'wrong-external-id'),
          resourcePolicy: 'trust',
          expect: 'deny',
        });
        out.push({
          principal: role.arn,
          need: assume(`arn:aws:iam::${iso.accountId}:role/kura-other`),
          expect: 'deny',
        });
        out.push({
          principal: role.arn,
          need: assume('arn:aws:iam::999999999999:role/kura-restore'),
          expect: 'deny',
        });
      }
      // The operator (an administrator of the backup account) is not trusted either.
      out.push({
        principal: `arn:aws:iam::${BACKUP_ACCOUNT}:role/kura-admin`,
        need: assume(iso.roleArn),
        resourcePolicy: 'trust',
        expect: 'deny',
      });
      return out;
    },
  },
  {
    id: 'isolated-role-stays-in-its-network',
    title:
      'the isolated role creates databases only in the isolated subnet group and instances only in its subnets, with no role but the access role',
    probes: (d) => {
      const iso = d.policy.isolatedAccount;
      if (!iso) return [];
      const a = iso.accountId;
      const r = iso.region ?? d.region;
      const role = iso.roleArn;
      const needs: Need[] = [
        { action: 'rds:RestoreDBInstanceFromDBSnapshot', resource: `arn:aws:rds:${r}:${a}:subgrp:default` },
        { action: 'rds:CreateDBInstance', resource: `arn:aws:rds:${r}:${a}:subgrp:other-subnets` },
        { action: 'rds:RestoreDBClusterFromSnapshot', resource: `arn:aws:rds:${r}:${a}:subgrp:default` },
        { action: 'ec2:RunInstances', resource: `arn:aws:ec2:${r}:${a}:subnet/subnet-0public` },
        { action: 'ec2:RunInstances', resource: `arn:aws:ec2:${r}:${a}:security-group/sg-0open` },
        { action: 'ec2:CreateVpc', resource: `arn:aws:ec2:${r}:${a}:vpc/*` },
        { action: 'ec2:CreateInternetGateway', resource: `arn:aws:ec2:${r}:${a}:internet-gateway/*` },
        { action: 'ec2:CreateVpcEndpoint', resource: `arn:aws:ec2:${r}:${a}:vpc-endpoint/*` },
        // A launched server gets the access role and nothing else: an administrator role passed
        // to an instance in the isolated network would be a way round every other limit here.
        {
          action: 'iam:PassRole',
          resource: `arn:aws:iam::${a}:role/kura-admin`,
          context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
        },
        {
          action: 'iam:PassRole',
          resource: `arn:aws:iam::${a}:role/kura-access`,
          context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
        },
      ];
      return needs.map((need) => ({
        principal: role,
        need: { ...need, account: a },
        expect: 'deny' as const,
      }));
    },
  },
  {
    id: 'content-backup-reads-only-named-sources',
    title: 'content-backup can read only the sources named in the policy',
    probes: (d) => {
      const role = d.functionRoles['content-backup'];
      if (!role) return [];
      return [
        { action: 's3:GetObject', resource: 'arn:aws:s3:::some-other-bucket/secret.txt' },
        { action: 's3:ListBucket', resource: 'arn:aws:s3:::some-other-bucket', context: { 's3:prefix': '' } },
        ...(d.policy.content ?? []).map((c) => {
          const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(c.source);
          return { action: 's3:GetObject', resource: `arn:aws:s3:::${m?.[1]}/outside-${m?.[2] ?? ''}x` };
        }),
      ].map((need) => ({
        principal: role,
        need: { ...need, account: BACKUP_ACCOUNT },
        expect: 'deny' as const,
      }));
    },
  },
  {
    id: 'share-only-managed',
    title: 'snapshots and images are shared only when kura manages them',
    probes: (d) =>
      deniedToBackupRoles(
        d,
        onForeignPoints(d, [
          'rds:ModifyDBSnapshotAttribute',
          'rds:ModifyDBClusterSnapshotAttribute',
          'ec2:ModifyImageAttribute',
          'ec2:ModifySnapshotAttribute',
        ]),
      ),
  },
  {
    id: 'alerts-only-to-the-alert-topic',
    title: 'roles that publish alerts publish only to the alert topic',
    probes: (d) =>
      Object.values(d.stateMachineRoles).map((role) => ({
        principal: role,
        need: {
          action: 'sns:Publish',
          resource: `arn:aws:sns:${d.region}:${BACKUP_ACCOUNT}:someone-elses-topic`,
          account: BACKUP_ACCOUNT,
        },
        expect: 'deny' as const,
      })),
  },
  RESTORE_ITEM_GRANTS,
];

/** The source roles of a deployment (one per source account); none in single-account mode. */
const sourceRoles = (d: Deployment) => [...d.roles.values()].filter((r) => r.source === 'source-template');

/** Checks of the source accounts' kura-source roles (probes only when the policy lists sources). */
export const SOURCE_MUST_NEVER: MustNever[] = [
  {
    id: 'source-role-trusts-only-kura-functions',
    title: `only the ${SOURCE_USERS.join(', ')} roles can assume a source account's kura-source role, with its ExternalId`,
    probes: (d) => {
      const out: Probe[] = [];
      const trusted = SOURCE_USERS.map((fn) => d.functionRoles[fn]);
      for (const src of sourceAccounts(d.policy)) {
        const assume = (externalId: string): Need & { account: string } => ({
          action: 'sts:AssumeRole',
          resource: src.roleArn,
          account: src.accountId,
          context: { 'sts:ExternalId': externalId },
        });
        for (const role of kuraRoles(d).filter((r) => r.account === BACKUP_ACCOUNT)) {
          const ok = trusted.includes(role.arn);
          out.push({
            principal: role.arn,
            need: assume(src.externalId),
            resourcePolicy: 'trust',
            expect: ok ? 'allow' : 'deny',
          });
          out.push({
            principal: role.arn,
            need: assume(`${src.externalId}-wrong`),
            resourcePolicy: 'trust',
            expect: 'deny',
          });
        }
        out.push({
          principal: `arn:aws:iam::${BACKUP_ACCOUNT}:role/kura-admin`,
          need: assume(src.externalId),
          resourcePolicy: 'trust',
          expect: 'deny',
        });
      }
      return out;
    },
  },
  {
    id: 'source-role-bounded',
    title:
      'a kura-source role adds objects only under its own vault prefixes, deletes and reconfigures nothing in the vault, and snapshots only tagged resources',
    probes: (d) => {
      const out: Probe[] = [];
      const vault = `arn:aws:s3:::${d.policy.vault.bucket}`;
      for (const role of sourceRoles(d)) {
        const a = role.account;
        const r = d.region;
        const own = d.policy.content
          .filter((c) => owningAccount(d.policy, c)?.accountId === a)
          .map((c) => c.name);
        const foreign = d.policy.content.find((c) => !own.includes(c.name))?.name ?? 'someone-elses';
        // As if the vault's own policies admitted it everywhere: the role's policy alone must refuse.
        const onVault: Need[] = [
          { action: 's3:PutObject', resource: `${vault}/content/${foreign}/objects/x` },
          { action: 's3:PutObject', resource: `${vault}/${d.policy.vault.manifestsPrefix}content/x` },
          { action: 's3:PutObject', resource: `${vault}/${d.policy.vault.reportsPrefix}x` },
          ...[
            's3:DeleteObject',
            's3:DeleteObjectVersion',
            's3:BypassGovernanceRetention',
            's3:PutObjectLegalHold',
          ].map((action) => ({ action, resource: `${vault}/content/${own[0] ?? foreign}/objects/x` })),
          ...[
            's3:PutBucketPolicy',
            's3:PutLifecycleConfiguration',
            's3:PutBucketObjectLockConfiguration',
            's3:PutEncryptionConfiguration',
            's3:PutBucketVersioning',
            's3:DeleteBucket',
          ].map((action) => ({ action, resource: vault })),
          ...['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:PutKeyPolicy', 'kms:Decrypt'].map(
            (action) => ({
              action,
              resource: keyArn(BACKUP_ACCOUNT, r, 'VaultKey'),
            }),
          ),
        ];
        for (const need of onVault)
          out.push({
            principal: role.arn,
            need: { ...need, account: BACKUP_ACCOUNT },
            resourcePolicy: 'open',
            expect: 'deny',
          });
        const untagged = { 'aws:ResourceTag/env': 'prod' };
        const inOwn: Need[] = [
          {
            action: 'rds:CreateDBSnapshot',
            resource: `arn:aws:rds:${r}:${a}:db:untagged-db`,
            context: untagged,
          },
          {
            action: 'rds:CreateDBClusterSnapshot',
            resource: `arn:aws:rds:${r}:${a}:cluster:untagged`,
            context: untagged,
          },
          {
            action: 'ec2:CreateImage',
            resource: `arn:aws:ec2:${r}:${a}:instance/i-0untagged`,
            context: untagged,
          },
          {
            action: 'rds:DeleteDBSnapshot',
            resource: `arn:aws:rds:${r}:${a}:snapshot:prod-manual`,
            context: untagged,
          },
          { action: 'ec2:DeregisterImage', resource: `arn:aws:ec2:${r}::image/ami-0prod`, context: untagged },
          // Images: share only kura's own, never mark an operator's image as kura's, never copy.
          {
            action: 'ec2:ModifyImageAttribute',
            resource: `arn:aws:ec2:${r}::image/ami-0prod`,
            context: untagged,
          },
          {
            action: 'ec2:ModifySnapshotAttribute',
            resource: `arn:aws:ec2:${r}::snapshot/snap-0prod`,
            context: untagged,
          },
          {
            action: 'ec2:CreateTags',
            resource: `arn:aws:ec2:${r}::image/ami-0prod`,
            context: { ...untagged, 'aws:RequestTag/kura:managed': 'true', 'aws:TagKeys': ['kura:managed'] },
          },
          { action: 'ec2:CopyImage', resource: `arn:aws:ec2:${r}::image/ami-0prod`, context: untagged },
          {
            action: 'ec2:DeleteSnapshot',
            resource: `arn:aws:ec2:${r}::snapshot/snap-0prod`,
            context: untagged,
          },
          {
            action: 'rds:ModifyDBSnapshotAttribute',
            resource: `arn:aws:rds:${r}:${a}:snapshot:prod-manual`,
            context: untagged,
          },
          { action: 'rds:ModifyDBInstance', resource: `arn:aws:rds:${r}:${a}:db:shop-db` },
          { action: 'rds:DeleteDBInstance', resource: `arn:aws:rds:${r}:${a}:db:shop-db` },
          { action: 'ec2:TerminateInstances', resource: `arn:aws:ec2:${r}:${a}:instance/i-0shop` },
          { action: 's3:PutObject', resource: 'arn:aws:s3:::app1-uploads/images/x' },
          { action: 's3:PutBucketPolicy', resource: 'arn:aws:s3:::app1-uploads' },
          { action: 'iam:PassRole', resource: `arn:aws:iam::${a}:role/anything` },
          // Databases: the source role takes and shares; the copy is the backup account's to make,
          // and the source's keys stay the operator's (sharing needs no key use).
          ...['rds:CopyDBSnapshot', 'rds:RestoreDBInstanceFromDBSnapshot'].map((action) => ({
            action,
            resource: `arn:aws:rds:${r}:${a}:snapshot:kura-shop-202611011900`,
            context: MANAGED,
          })),
          ...['rds:CopyDBClusterSnapshot', 'rds:RestoreDBClusterFromSnapshot'].map((action) => ({
            action,
            resource: `arn:aws:rds:${r}:${a}:cluster-snapshot:kura-shop-202611011900`,
            context: MANAGED,
          })),
          ...['kms:CreateGrant', 'kms:Decrypt', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion'].map(
            (action) => ({
              action,
              resource: `arn:aws:kms:${r}:${a}:key/database-key`,
            }),
          ),
        ];
        for (const need of inOwn)
          out.push({ principal: role.arn, need: { ...need, account: a }, expect: 'deny' });
        // The backup account's copies (kura-managed, same names as the source's) are out of its reach.
        for (const action of [
          'rds:DeleteDBSnapshot',
          'rds:ModifyDBSnapshotAttribute',
          'rds:AddTagsToResource',
        ])
          out.push({
            principal: role.arn,
            need: {
              action,
              resource: `arn:aws:rds:${r}:${BACKUP_ACCOUNT}:snapshot:kura-shop-202611011900-${a}-${r}`,
              context: MANAGED,
              account: BACKUP_ACCOUNT,
            },
            expect: 'deny',
          });
      }
      return out;
    },
  },
];

const ADMINISTRATOR_ACCESS = {
  name: 'AdministratorAccess',
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
};

/**
 * The vault's side of the source roles (deploy/template.ts): its bucket and
 * key policies admit each kura-source role to add objects under its own
 * prefixes with the vault's lock mode, and refuse it everything else even
 * when its own account grants it all (a source administrator's doing).
 */
SOURCE_MUST_NEVER.push({
  id: 'vault-admits-source-roles-only-to-add',
  title:
    "the vault's bucket and key policies let a kura-source role add objects under its own prefixes and nothing else: no delete, no read, no retention change, no configuration, however its own account grants it",
  probes: (d) => {
    const out: Probe[] = [];
    const vault = `arn:aws:s3:::${d.policy.vault.bucket}`;
    const vaultKey = keyArn(BACKUP_ACCOUNT, d.region, 'VaultKey');
    const viaS3 = { 'kms:ViaService': `s3.${d.region}.amazonaws.com` };
    const mode = d.policy.vault.objectLock.mode;
    const weaker = mode === 'COMPLIANCE' ? 'GOVERNANCE' : 'COMPLIANCE';
    for (const role of sourceRoles(d)) {
      const a = role.account;
      const own = d.policy.content
        .filter((c) => owningAccount(d.policy, c)?.accountId === a)
        .map((c) => c.name);
      const ownsLanding = Boolean(d.policy.logs && owningAccount(d.policy, d.policy.logs)?.accountId === a);
      const ownKeys = [
        ...own.map((n) => `${vault}/content/${n}/objects/x.jpg`),
        ...(ownsLanding ? [`${vault}/logs/access/web-1/2026-11-01/access.log.gz`] : []),
      ];
      const foreign = d.policy.content.find((c) => !own.includes(c.name))?.name ?? 'someone-elses';
      const probe = (
        need: Need,
        expect: 'allow' | 'deny',
        anyIdentity = false,
        rp: Probe['resourcePolicy'] = 'bucket',
      ) =>
        out.push({
          principal: role.arn,
          need: { ...need, account: BACKUP_ACCOUNT },
          resourcePolicy: rp,
          expect,
          ...(anyIdentity ? { anyIdentity } : {}),
        });
      // What the copies need, through both its own policy and the vault's.
      for (const key of ownKeys) {
        probe({ action: 's3:PutObject', resource: key }, 'allow');
        probe({ action: 's3:PutObjectTagging', resource: key }, 'allow');
        probe(
          { action: 's3:PutObjectRetention', resource: key, context: { 's3:object-lock-mode': mode } },
          'allow',
        );
      }
      if (ownKeys.length)
        probe(
          { action: 'kms:GenerateDataKey', resource: vaultKey, context: viaS3 },
          'allow',
          false,
          'vault-key',
        );
      // The vault's policies alone refuse the rest.
      for (const key of ownKeys)
        for (const need of [
          { action: 's3:DeleteObject', resource: key },
          { action: 's3:DeleteObjectVersion', resource: key },
          { action: 's3:GetObject', resource: key },
          { action: 's3:GetObjectVersion', resource: key },
          { action: 's3:PutObjectRetention', resource: key, context: { 's3:object-lock-mode': weaker } },
          { action: 's3:BypassGovernanceRetention', resource: key },
          { action: 's3:PutObjectLegalHold', resource: key },
        ])
          probe(need, 'deny', true);
      for (const resource of [
        `${vault}/content/${foreign}/objects/x.jpg`,
        `${vault}/${d.policy.vault.manifestsPrefix}content/${own[0] ?? foreign}/generations/2026-11-01.index.json`,
        `${vault}/${d.policy.vault.reportsPrefix}x.json`,
        `${vault}/log-bundles/access/web-1/2026-10.tar.gz`,
        `${vault}/ledger/first-points/x.json`,
        ...(ownsLanding ? [] : [`${vault}/logs/access/web-1/2026-11-01/access.log.gz`]),
      ])
        probe({ action: 's3:PutObject', resource }, 'deny', true);
      for (const action of [
        's3:PutBucketPolicy',
        's3:DeleteBucketPolicy',
        's3:PutLifecycleConfiguration',
        's3:PutBucketObjectLockConfiguration',
        's3:PutBucketVersioning',
        's3:PutEncryptionConfiguration',
        's3:ListBucket',
        's3:ListBucketVersions',
        's3:DeleteBucket',
      ])
        probe({ action, resource: vault }, 'deny', true);
      for (const need of [
        { action: 'kms:Decrypt', resource: vaultKey, context: viaS3 },
        { action: 'kms:GenerateDataKey', resource: vaultKey },
        { action: 'kms:ScheduleKeyDeletion', resource: vaultKey },
        { action: 'kms:DisableKey', resource: vaultKey },
        { action: 'kms:PutKeyPolicy', resource: vaultKey },
      ])
        probe(need, 'deny', true, 'vault-key');
    }
    return out;
  },
});

function principalOf(d: Deployment, arn: string): Principal {
  const role = d.roles.get(arn);
  if (role) return { ...rolePrincipal(role, 'check'), sessionArn: undefined };
  // An operator role: AdministratorAccess (what stops it is the resource policy).
  return {
    arn,
    account: arn.split(':')[4] ?? '',
    label: arn.split('/').pop() ?? arn,
    policies: [ADMINISTRATOR_ACCESS],
  };
}

/** KMS's default key policy: the key's account may use it through its IAM policies. */
const defaultKeyPolicy = (account: string) => ({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
  ],
});

export async function checkMustNever(d: Deployment, only?: string): Promise<MustNeverResult[]> {
  const out: MustNeverResult[] = [];
  for (const check of [...MUST_NEVER, ...SOURCE_MUST_NEVER].filter((c) => !only || c.id === only)) {
    const violations: string[] = [];
    const probes = check.probes(d);
    const roles = new Set<string>();
    for (const p of probes) {
      const principal = p.anyIdentity
        ? { ...principalOf(d, p.principal), policies: [ADMINISTRATOR_ACCESS] }
        : principalOf(d, p.principal);
      roles.add(principal.label);
      const rp =
        p.resourcePolicy === 'bucket'
          ? {
              name: 'VaultBucketPolicy',
              policy: d.bucketPolicies.get(d.policy.vault.bucket) ?? { Statement: [] },
            }
          : p.resourcePolicy === 'vault-key'
            ? {
                name: 'VaultKey key policy',
                policy: d.keyPolicies.get('VaultKey')?.policy ?? { Statement: [] },
              }
            : p.resourcePolicy === 'trust'
              ? {
                  name: 'role trust policy',
                  policy: d.roles.get(p.need.resource)?.trust ?? { Statement: [] },
                }
              : p.resourcePolicy === 'open'
                ? {
                    name: 'a resource policy admitting it',
                    policy: {
                      Version: '2012-10-17',
                      Statement: [
                        { Effect: 'Allow', Principal: { AWS: principal.arn }, Action: '*', Resource: '*' },
                      ],
                    },
                  }
                : undefined;
      const decision = await evaluate(
        principal,
        {
          action: p.need.action,
          resource: p.need.resource,
          resourceAccount: p.need.account,
          context: p.need.context,
        },
        p.resourcePolicy === 'default-key'
          ? { name: 'default key policy', policy: defaultKeyPolicy(p.need.account) }
          : rp,
      );
      const got = decision.allowed ? 'allow' : 'deny';
      if (got !== p.expect)
        violations.push(
          `${principal.label} ${got === 'allow' ? 'may' : 'may not'} ${p.need.action} on ${p.need.resource}: ${decision.reason}`,
        );
    }
    out.push({
      id: check.id,
      title: check.title,
      holds: violations.length === 0,
      violations,
      probes: probes.length,
      roles: [...roles].sort(),
    });
  }
  return out;
}
