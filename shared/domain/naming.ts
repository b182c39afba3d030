// Domain: deterministic names. A name derives from the source and the
// scheduled time only, so a replayed event finds its own earlier work.
import { createHash } from 'node:crypto';
import { stamp } from '../policy/calendar.ts';

/**
 * The longest identifier AWS accepts for a recovery point of this kind:
 * DBSnapshotIdentifier 255, DBClusterSnapshotIdentifier 63 (RDS API reference,
 * CreateDBClusterSnapshot / CopyDBClusterSnapshot constraints), AMI name 128.
 */
export const IDENTIFIER_LIMIT = { instance: 255, cluster: 63, image: 128 } as const;

/**
 * `part` cut to `room` characters, the cut made distinct by a short digest of
 * the whole: two long names sharing their first characters stay apart, and the
 * same name always shortens alike (a replayed run finds its own work).
 */
export function shortened(part: string, room: number): string {
  if (part.length <= room) return part;
  const digest = createHash('sha256').update(part).digest('hex').slice(0, 8);
  return `${part.slice(0, Math.max(1, room - digest.length - 1)).replace(/-+$/, '')}-${digest}`;
}

/**
 * kura-<source>-<yyyymmddHHMM> (UTC), valid as an RDS snapshot id and an AMI
 * name. Past `limit` the source part is shortened (with a digest), never the
 * time: names still end in the 12-digit stamp that orphan checks match on.
 */
export function recoveryPointName(
  source: string,
  time: Date,
  limit: number = IDENTIFIER_LIMIT.instance,
): string {
  const ts = stamp(time);
  return `kura-${shortened(identifierPart(source), limit - 'kura-'.length - 1 - ts.length)}-${ts}`;
}

/** The description of an image's cross-region copy: how a copy that lost its tags is still known as kura's. */
export function copyDescription(image: { region: string; id: string }): string {
  return `kura copy of ${image.region}:${image.id}`;
}

/** RDS identifiers and the names kura derives from them: lower case, letters, digits and single hyphens. */
function clean(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-');
}

/** `clean`, without a leading or trailing hyphen: a part an identifier is built from. */
export function identifierPart(s: string): string {
  return clean(s).replace(/^-|-$/g, '');
}

const COMPASS: Record<string, string> = {
  northeast: 'ne',
  northwest: 'nw',
  southeast: 'se',
  southwest: 'sw',
};

/** A region as AWS abbreviates it in names: ap-northeast-1 → apne1, us-west-2 → usw2, ca-central-1 → cac1. */
export function regionCode(region: string): string {
  const parts = clean(region).split('-');
  if (parts.length < 3) return parts.join('');
  const middle = parts.slice(1, -1).map((p) => COMPASS[p] ?? p.slice(0, 1));
  return `${parts[0]}${middle.join('')}${parts.at(-1)}`;
}

/**
 * kura-<v|r>-<runId>-<source>, at most 63 characters (an RDS instance identifier).
 * With sources (`origin.account`): kura-<v|r>-<runId>-<source>-<account>-<region code>,
 * so that two source accounts' databases of one name, or one account's in two
 * regions, restore side by side in the isolated account. Such a name stays within
 * 60 characters (an Aurora writer adds "-w"): when too long, the source is
 * shortened and a hash of the whole name keeps it unique.
 */
export function restoredName(
  purpose: 'validation' | 'restore',
  runId: string,
  source: string,
  origin: { account?: string; sourceRegion?: string } = {},
): string {
  const base = clean(`kura-${purpose === 'validation' ? 'v' : 'r'}-${runId}-${source}`);
  if (!origin.account) return base.slice(0, 63).replace(/-$/, '');
  const tail = `-${origin.account}${origin.sourceRegion ? `-${regionCode(origin.sourceRegion)}` : ''}`;
  const full = `${base.replace(/-$/, '')}${tail}`;
  if (full.length <= 60) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 6);
  return `${base.slice(0, 60 - tail.length - hash.length - 1).replace(/-$/, '')}-${hash}${tail}`;
}
