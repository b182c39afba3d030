// Domain: the tags that mark what kura owns. Pruning and clean-up act only on
// resources that carry `kura:managed = true`, whatever their names.

export const TAG = {
  managed: 'kura:managed',
  class: 'kura:class',
  source: 'kura:source',
  /** The source account and region a recovery point was taken in (policies with sources only). */
  sourceAccount: 'kura:source-account',
  sourceRegion: 'kura:source-region',
  /** The scheduled time (ISO-8601) of the run that made it: age is measured from here. */
  time: 'kura:time',
  reason: 'kura:reason',
  createdBy: 'kura:created-by',
  /** ISO time at which a validation passed for this recovery point. */
  validated: 'kura:validated',
  copyOf: 'kura:copy-of',
  /** What a vault object is where the lifecycle must tell them apart (`bundle`: a log bundle, which may go cold). */
  object: 'kura:object',
} as const;

export type BackupClass = 'database' | 'content' | 'logs' | 'image' | 'validation' | 'restore';

export type TagMap = Record<string, string>;

export function managedTags(opts: {
  backupClass: BackupClass;
  source: string;
  time: Date;
  createdBy: string;
  reason?: string;
  /** The source account and region, when the policy pulls from source accounts. */
  account?: string;
  region?: string;
}): TagMap {
  const tags: TagMap = {
    [TAG.managed]: 'true',
    [TAG.class]: opts.backupClass,
    [TAG.source]: opts.source,
    [TAG.time]: opts.time.toISOString(),
    [TAG.createdBy]: opts.createdBy,
  };
  if (opts.reason) tags[TAG.reason] = opts.reason.slice(0, 255);
  if (opts.account) tags[TAG.sourceAccount] = opts.account;
  if (opts.account && opts.region) tags[TAG.sourceRegion] = opts.region;
  return tags;
}

export function isManaged(tags: TagMap, backupClass?: BackupClass): boolean {
  return tags[TAG.managed] === 'true' && (backupClass === undefined || tags[TAG.class] === backupClass);
}

/** The scheduled time recorded in the tags, or undefined when absent or unreadable. */
export function taggedTime(tags: TagMap): Date | undefined {
  const raw = tags[TAG.time];
  if (!raw) return undefined;
  const t = new Date(raw);
  return Number.isNaN(t.getTime()) ? undefined : t;
}

/** Copies the tags the policy names from a source resource (never kura's own). */
export function copiedTags(source: TagMap, names: string[]): TagMap {
  const out: TagMap = {};
  for (const n of names) {
    const v = source[n];
    if (v !== undefined && !n.startsWith('kura:')) out[n] = v;
  }
  return out;
}

export function toTagList(tags: TagMap): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function fromTagList(list: { Key?: string; Value?: string }[] | undefined): TagMap {
  const out: TagMap = {};
  for (const t of list ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}
