// Domain: deterministic names. A name derives from the source and the
// scheduled time only, so a replayed event finds its own earlier work.
import { createHash } from 'node:crypto';
import { stamp } from '../policy/calendar.ts';

/** kura-<source>-<yyyymmddHHMM> (UTC), valid as an RDS snapshot id and an AMI name. */
export function recoveryPointName(source: string, time: Date): string {
  const clean = source
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return `kura-${clean}-${stamp(time)}`;
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
