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

const clean = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');

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
export function recoveryPointName(source: string, time: Date, limit: number = IDENTIFIER_LIMIT.instance): string {
  const ts = stamp(time);
  return `kura-${shortened(clean(source), limit - 'kura-'.length - 1 - ts.length)}-${ts}`;
}

/** The description of an image's cross-region copy: how a copy that lost its tags is still known as kura's. */
export function copyDescription(image: { region: string; id: string }): string {
  return `kura copy of ${image.region}:${image.id}`;
}

/** kura-<v|r>-<runId>-<source>, at most 63 characters (an RDS instance identifier). */
export function restoredName(purpose: 'validation' | 'restore', runId: string, source: string): string {
  const base = `kura-${purpose === 'validation' ? 'v' : 'r'}-${runId}-${source}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-');
  return base.slice(0, 63).replace(/-$/, '');
}
