// Local runtime (IAM front layer): a must-never check of the restore machine's
// roles. Each class's items run in a function of their own (functions/
// restore-<class>), so each class's item grants (sharing its recovery points,
// the point-in-time path, key use through its service, the content objects'
// tags, archived bundles asked back) belong to that class's role alone, and
// none to `restore` (plan, approval, report). Each grant is probed as allowed
// to its own class's role, which shows the probe is one a role can hold, and
// as refused to the four others: a grant that comes back to RestoreRole, or
// goes to another class's role, fails the check (test/deploy/must-never.test.ts,
// `kura report permissions`).
import type { Need } from './actions.ts';
import { BACKUP_ACCOUNT, type Deployment } from './deployment.ts';
import type { MustNever, Probe } from './must-never.ts';

/** The restore machine's roles in the packaged template: the plan's, then one per class. */
export const RESTORE_ROLES = {
  plan: 'RestoreRole',
  database: 'RestoreDatabaseRole',
  image: 'RestoreImageRole',
  content: 'RestoreContentRole',
  logs: 'RestoreLogsRole',
} as const;
type Owner = Exclude<keyof typeof RESTORE_ROLES, 'plan'>;

const MANAGED = { 'aws:ResourceTag/kura:managed': 'true' };

/** Each class's item grants, as the item's calls need them (deploy/iam/restore-<class>.yml). */
function itemNeeds(d: Deployment): Record<Owner, Need[]> {
  const r = d.region;
  const a = BACKUP_ACCOUNT;
  const key = `arn:aws:kms:${r}:${a}:key/0000aaaa-1111-2222-3333-444455556666`;
  const vault = `arn:aws:s3:::${d.policy.vault.bucket}`;
  const via = (service: string) => ({ 'kms:ViaService': `${service}.${r}.amazonaws.com` });
  return {
    database: [
      {
        action: 'rds:DescribeDBSnapshotAttributes',
        resource: `arn:aws:rds:${r}:${a}:snapshot:kura-shop-db-1`,
      },
      {
        action: 'rds:ModifyDBSnapshotAttribute',
        resource: `arn:aws:rds:${r}:${a}:snapshot:kura-shop-db-1`,
        context: MANAGED,
      },
      {
        action: 'rds:ModifyDBClusterSnapshotAttribute',
        resource: `arn:aws:rds:${r}:${a}:cluster-snapshot:kura-aurora-1`,
        context: MANAGED,
      },
      { action: 'rds:RestoreDBInstanceToPointInTime', resource: `arn:aws:rds:${r}:${a}:db:kura-pitr-rq-1` },
      { action: 'rds:CreateDBSnapshot', resource: `arn:aws:rds:${r}:${a}:snapshot:kura-pitr-rq-1` },
      {
        action: 'rds:DeleteDBInstance',
        resource: `arn:aws:rds:${r}:${a}:db:kura-pitr-rq-1`,
        context: MANAGED,
      },
      {
        action: 'rds:DeleteDBSnapshot',
        resource: `arn:aws:rds:${r}:${a}:snapshot:kura-pitr-rq-1`,
        context: MANAGED,
      },
      { action: 'kms:CreateGrant', resource: key, context: via('rds') },
      { action: 'kms:ReEncryptFrom', resource: key, context: via('rds') },
    ],
    image: [
      { action: 'ec2:DescribeImageAttribute', resource: '*' },
      { action: 'ec2:ModifyImageAttribute', resource: `arn:aws:ec2:${r}::image/ami-0kura`, context: MANAGED },
      {
        action: 'ec2:ModifySnapshotAttribute',
        resource: `arn:aws:ec2:${r}::snapshot/snap-0kura`,
        context: MANAGED,
      },
      { action: 'kms:CreateGrant', resource: key, context: via('ec2') },
      { action: 'kms:ReEncryptFrom', resource: key, context: via('ec2') },
    ],
    content: [
      { action: 's3:GetObjectVersionTagging', resource: `${vault}/content/app1-images/objects/a.png` },
    ],
    logs: [
      { action: 's3:RestoreObject', resource: `${vault}/log-bundles/access/web-1/2025-09/part-001.tar.gz` },
    ],
  };
}

export const RESTORE_ITEM_GRANTS: MustNever = {
  id: 'restore-item-grants-in-their-class-role',
  title:
    "only a class's restore function holds its class's item grants (share, point in time, key use, content tags, archived bundles); restore (plan, approval, report) none",
  probes: (d) => {
    const roleArn = (logicalId: string) =>
      [...d.roles.values()].find((x) => x.logicalId === logicalId && x.source === 'template')?.arn;
    const out: Probe[] = [];
    for (const [owner, needs] of Object.entries(itemNeeds(d)) as [Owner, Need[]][])
      for (const need of needs)
        for (const [who, logicalId] of Object.entries(RESTORE_ROLES)) {
          // A role missing from the template is not probed (the check's roles then lack it).
          const principal = roleArn(logicalId);
          if (principal)
            out.push({
              principal,
              need: { ...need, account: BACKUP_ACCOUNT },
              // A recovery point's key (not the vault's): KMS's default key policy, so the role's own policy decides.
              ...(need.action.startsWith('kms:') ? { resourcePolicy: 'default-key' as const } : {}),
              expect: who === owner ? 'allow' : 'deny',
            });
        }
    // Made in the isolated account by its role, never by a restore role of the backup account.
    for (const action of ['ec2:RunInstances', 'rds:RestoreDBInstanceFromDBSnapshot'])
      for (const logicalId of Object.values(RESTORE_ROLES)) {
        const principal = roleArn(logicalId);
        if (principal)
          out.push({
            principal,
            need: { action, resource: '*', account: BACKUP_ACCOUNT },
            expect: 'deny',
          });
      }
    return out;
  },
};
