// Use case (image class): what one ami-backup run acts with: its ports, and
// the context of one source account and region (single-account mode: one,
// kura's own account in the policy's region).
import type { RecordStore } from '../../aws/config-records.ts';
import type { ImagePort } from '../../aws/ec2-images.ts';
import type { KeyPort } from '../../aws/kms.ts';
import type { SourceTarget } from '../../domain/source-target.ts';
import { IDENTIFIER_LIMIT, recoveryPointName } from '../../domain/naming.ts';
import type { ImagesPolicy, Policy } from '../../policy/schema.ts';
import type { MetricPoint } from '../../runtime/result.ts';

export const FUNCTION_NAME = 'ami-backup';
/** Image states AWS will not finish from. */
export const FAILED_STATES = new Set(['failed', 'error', 'invalid']);

export interface AmiBackupPorts {
  images: ImagePort;
  keys: KeyPort;
  records: RecordStore;
  /** The clock the wait budget is measured on, the one waitForImage polls on (the run's "now" comes from the event). */
  clock: () => number;
  /**
   * With `sources`: the image and key ports of each source account and
   * region (records stay in kura's vault). Absent: `images` and `keys` act
   * in kura's own account, in the policy's region.
   */
  sources?: { target: SourceTarget; images: ImagePort; keys: KeyPort }[];
  /** With sources: the backup account (kura's own), which `images` and `keys` act in and which owns the copies. */
  backupAccount?: string;
}

export interface Context {
  policy: Policy;
  cfg: ImagesPolicy;
  ports: AmiBackupPorts;
  /** The source account and region this context acts in (account undefined: kura's own). */
  source: SourceTarget;
  now: Date;
  metrics: MetricPoint[];
  inUse: Map<string, Map<string, string>>;
  /**
   * With sources: the backup account in the policy's region, where the source's
   * images are copied to and retention, DR copies and shares act. Absent
   * (single-account mode): this context is that account.
   */
  home?: Context;
}

export async function imagesInUse(ctx: Context, region: string): Promise<Map<string, string>> {
  let m = ctx.inUse.get(region);
  if (!m) {
    m = await ctx.ports.images.imagesInUse(region);
    ctx.inUse.set(region, m);
  }
  return m;
}

export const namePrefix = (instanceId: string) =>
  recoveryPointName(instanceId, new Date(0), IDENTIFIER_LIMIT.image).replace(/\d{12}$/, '');
