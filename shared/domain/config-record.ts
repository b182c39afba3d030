// Domain (image class): the configuration record kept in the vault beside
// every machine image: what the server looked like when the image was taken,
// and a readable diff against the previous image's record. Pure.
import { createHash } from 'node:crypto';
import type { TagMap } from './tags.ts';

export interface SecurityGroupRecord {
  id: string;
  name?: string;
}

export interface BlockDeviceRecord {
  device: string;
  volumeId?: string;
  sizeGiB?: number;
  volumeType?: string;
  encrypted?: boolean;
  kmsKeyId?: string;
  deleteOnTermination?: boolean;
}

/** The configuration of an EC2 instance that an image alone does not tell. */
export interface InstanceConfiguration {
  instanceId: string;
  state: string;
  instanceType: string;
  /** The AMI the instance was launched from. */
  sourceImageId: string;
  architecture?: string;
  platform?: string;
  vpcId?: string;
  subnetId?: string;
  availabilityZone?: string;
  securityGroups: SecurityGroupRecord[];
  iamInstanceProfile?: string;
  keyName?: string;
  blockDevices: BlockDeviceRecord[];
  tags: TagMap;
  /** SHA-256 (hex) of the decoded user data; null when the instance has none. Never the user data itself. */
  userDataSha256: string | null;
}

export interface ConfigChange {
  /** What changed, e.g. "instance type", "security group sg-1", "tag env". */
  field: string;
  before?: string;
  after?: string;
  /** One line for people: "instance type: t3.micro → t3.large". */
  text: string;
}

export interface ConfigurationRecord {
  kind: 'kura.image-configuration';
  version: 1;
  image: {
    id: string;
    name: string;
    region: string;
    /** The scheduled time of the run that took the image (ISO). */
    time: string;
    reason?: string;
    /** Whether the instance was rebooted for a file-system-consistent image. */
    reboot: boolean;
    createdBy: string;
  };
  configuration: InstanceConfiguration;
  /** The image this record is compared with; null for the first image of an instance. */
  previous: { name: string; id: string; time: string; recordFound: boolean } | null;
  changes: ConfigChange[];
}

/** Where an image's record lives in the vault. */
export function configRecordKey(instanceId: string, imageName: string): string {
  return `images/${instanceId}/${imageName}.json`;
}

/** Hashes base64 user data as the instance receives it (decoded); undefined/empty → null. */
export function userDataSha256(base64: string | undefined): string | null {
  if (!base64) return null;
  return createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex');
}

const short = (hash: string | null | undefined) => (hash ? hash.slice(0, 12) : undefined);

function scalar(field: string, before: string | undefined, after: string | undefined): ConfigChange[] {
  if ((before ?? '') === (after ?? '')) return [];
  const text =
    before === undefined
      ? `${field}: set to ${after}`
      : after === undefined
        ? `${field}: removed (was ${before})`
        : `${field}: ${before} → ${after}`;
  return [{ field, before, after, text }];
}

function describeDevice(d: BlockDeviceRecord): string {
  const parts = [
    d.sizeGiB !== undefined ? `${d.sizeGiB} GiB` : undefined,
    d.volumeType,
    d.encrypted ? 'encrypted' : undefined,
  ];
  return parts.filter(Boolean).join(' ') || (d.volumeId ?? 'volume');
}

function blockDeviceChanges(before: BlockDeviceRecord[], after: BlockDeviceRecord[]): ConfigChange[] {
  const out: ConfigChange[] = [];
  const old = new Map(before.map((d) => [d.device, d]));
  const cur = new Map(after.map((d) => [d.device, d]));
  for (const [device, d] of cur) {
    const o = old.get(device);
    const field = `block device ${device}`;
    if (!o) {
      out.push({ field, after: describeDevice(d), text: `${field}: added (${describeDevice(d)})` });
      continue;
    }
    const pairs: [string, unknown, unknown][] = [
      [
        'size',
        o.sizeGiB !== undefined ? `${o.sizeGiB} GiB` : undefined,
        d.sizeGiB !== undefined ? `${d.sizeGiB} GiB` : undefined,
      ],
      ['type', o.volumeType, d.volumeType],
      ['encrypted', o.encrypted, d.encrypted],
      ['KMS key', o.kmsKeyId, d.kmsKeyId],
      ['volume', o.volumeId, d.volumeId],
      ['delete on termination', o.deleteOnTermination, d.deleteOnTermination],
    ];
    for (const [what, b, a] of pairs) {
      if (b === a) continue;
      out.push({
        field: `${field} ${what}`,
        before: String(b),
        after: String(a),
        text: `${field}: ${what} ${String(b)} → ${String(a)}`,
      });
    }
  }
  for (const [device, o] of old) {
    if (!cur.has(device)) {
      const field = `block device ${device}`;
      out.push({ field, before: describeDevice(o), text: `${field}: removed (was ${describeDevice(o)})` });
    }
  }
  return out;
}

function groupChanges(before: SecurityGroupRecord[], after: SecurityGroupRecord[]): ConfigChange[] {
  const label = (g: SecurityGroupRecord) => (g.name ? `${g.id} (${g.name})` : g.id);
  const old = new Set(before.map((g) => g.id));
  const cur = new Set(after.map((g) => g.id));
  return [
    ...after
      .filter((g) => !old.has(g.id))
      .map((g) => ({
        field: `security group ${g.id}`,
        after: label(g),
        text: `security group added: ${label(g)}`,
      })),
    ...before
      .filter((g) => !cur.has(g.id))
      .map((g) => ({
        field: `security group ${g.id}`,
        before: label(g),
        text: `security group removed: ${label(g)}`,
      })),
  ];
}

function tagChanges(before: TagMap, after: TagMap): ConfigChange[] {
  const out: ConfigChange[] = [];
  // aws:* tags are AWS's own bookkeeping (CloudFormation, Auto Scaling), not configuration.
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => !k.startsWith('aws:'))
    .sort();
  for (const k of keys) out.push(...scalar(`tag ${k}`, before[k], after[k]));
  return out;
}

/** What changed between two configurations, one entry per readable line. Empty when nothing changed. */
export function diffConfigurations(
  before: InstanceConfiguration,
  after: InstanceConfiguration,
): ConfigChange[] {
  return [
    ...scalar('instance type', before.instanceType, after.instanceType),
    ...scalar('source AMI', before.sourceImageId, after.sourceImageId),
    ...scalar('subnet', before.subnetId, after.subnetId),
    ...groupChanges(before.securityGroups, after.securityGroups),
    ...scalar('IAM instance profile', before.iamInstanceProfile, after.iamInstanceProfile),
    ...scalar('key pair', before.keyName, after.keyName),
    ...scalar('user data (SHA-256)', short(before.userDataSha256), short(after.userDataSha256)),
    ...blockDeviceChanges(before.blockDevices, after.blockDevices),
    ...tagChanges(before.tags, after.tags),
  ];
}

export function buildConfigurationRecord(opts: {
  image: ConfigurationRecord['image'];
  configuration: InstanceConfiguration;
  previous?: { name: string; id: string; time: string; record?: ConfigurationRecord };
}): ConfigurationRecord {
  const { previous } = opts;
  return {
    kind: 'kura.image-configuration',
    version: 1,
    image: opts.image,
    configuration: opts.configuration,
    previous: previous
      ? { name: previous.name, id: previous.id, time: previous.time, recordFound: Boolean(previous.record) }
      : null,
    changes: previous?.record ? diffConfigurations(previous.record.configuration, opts.configuration) : [],
  };
}

/** Reads a stored record; undefined when the JSON is not a kura configuration record. */
export function parseConfigurationRecord(raw: unknown): ConfigurationRecord | undefined {
  const r = raw as Partial<ConfigurationRecord> | null;
  if (r?.kind !== 'kura.image-configuration' || r.version !== 1 || !r.configuration || !r.image)
    return undefined;
  return r as ConfigurationRecord;
}

/** The lines a person reads: what the image holds compared with the previous one. */
export function describeChanges(record: ConfigurationRecord): string[] {
  if (!record.previous) return ['first image of this instance: nothing to compare with'];
  if (!record.previous.recordFound)
    return [`previous image ${record.previous.name} has no configuration record: nothing to compare with`];
  if (record.changes.length === 0) return [`no configuration change since ${record.previous.name}`];
  return record.changes.map((c) => c.text);
}
