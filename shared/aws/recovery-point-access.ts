// AWS adapter (read only): can the isolated account use kura's recovery
// points? For each database snapshot and machine image in the source region:
// shared with the isolated account (RDS `restore` attribute, EC2 launch
// permission), and for an encrypted snapshot whether its KMS key allows that
// account. A read that fails is recorded on the point, never taken as "fine".
import { DescribeImageAttributeCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { CopyEvidence } from '../domain/reports/compliance.ts';
import { isManaged, TAG } from '../domain/tags.ts';
import type { Policy } from '../policy/schema.ts';
import type { Clients } from './clients.ts';
import { describeAwsError, isAwsError } from './errors.ts';
import { Ec2ImageAdapter } from './ec2-images.ts';
import { type KeyInfo, KmsAdapter, keyAllowsAccount } from './kms.ts';
import { RdsAdapter } from './rds.ts';

/** A read AWS refused (denied, throttled, the key or point gone or disabled) is recorded on the point; anything else is a fault. */
function refusal(err: unknown): string {
  if (!isAwsError(err, 'accessDenied', 'throttled', 'notFound', 'invalidState')) throw err;
  return describeAwsError(err);
}

export async function recoveryPointAccess(
  clients: Clients,
  policy: Policy,
  databases: { id: string; kind: 'instance' | 'cluster' }[],
): Promise<CopyEvidence[]> {
  const iso = policy.isolatedAccount?.accountId;
  if (!iso) return [];
  const out: CopyEvidence[] = [];
  const rds = new RdsAdapter(clients);
  const kms = new KmsAdapter(clients);
  const keys = new Map<string, Promise<KeyInfo>>();
  for (const db of databases) {
    for (const s of await rds.listSnapshots(db.kind, db.id)) {
      if (!isManaged(s.tags, 'database')) continue;
      const e: CopyEvidence = {
        class: 'database',
        source: db.id,
        id: s.id,
        time: s.tags[TAG.time] ?? '',
        region: clients.region,
        encrypted: s.encrypted,
      };
      try {
        e.sharedWithIsolated = (await rds.sharedWith(s)).some((a) => a === iso || a === 'all');
        if (s.encrypted && s.kmsKeyId) {
          if (!keys.has(s.kmsKeyId)) keys.set(s.kmsKeyId, kms.describe(s.kmsKeyId));
          const key = await (keys.get(s.kmsKeyId) as Promise<KeyInfo>);
          e.keyArn = key.arn;
          e.keyAllowsIsolated = key.manager === 'AWS' ? 'aws-managed' : keyAllowsAccount(key, iso);
        }
      } catch (err) {
        e.error = refusal(err);
      }
      out.push(e);
    }
  }
  if (policy.images) {
    const ec2 = clients.get(EC2Client);
    for (const img of await new Ec2ImageAdapter(clients).listManagedImages(policy.region)) {
      const e: CopyEvidence = {
        class: 'image',
        source: img.tags[TAG.source] ?? '',
        id: img.id,
        time: img.tags[TAG.time] ?? '',
        region: policy.region,
      };
      try {
        const attr = await ec2.send(
          new DescribeImageAttributeCommand({ ImageId: img.id, Attribute: 'launchPermission' }),
        );
        e.sharedWithIsolated = (attr.LaunchPermissions ?? []).some(
          (p) => p.UserId === iso || p.Group === 'all',
        );
        // The isolated account launches it only if it can use every volume's key.
        const enc = img.snapshots.filter((v) => v.encrypted && v.kmsKeyId);
        e.encrypted = img.snapshots.some((v) => v.encrypted);
        for (const v of enc) {
          const id = v.kmsKeyId as string;
          if (!keys.has(id)) keys.set(id, kms.describe(id));
          const key = await (keys.get(id) as Promise<KeyInfo>);
          e.keyArn = key.arn;
          e.keyAllowsIsolated = key.manager === 'AWS' ? 'aws-managed' : keyAllowsAccount(key, iso);
          if (e.keyAllowsIsolated !== true) break;
        }
      } catch (err) {
        e.error = refusal(err);
      }
      out.push(e);
    }
  }
  return out;
}
