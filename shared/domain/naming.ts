// Domain: deterministic names. A name derives from the source and the
// scheduled time only, so a replayed event finds its own earlier work.
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

/** kura-<v|r>-<runId>-<source>, at most 63 characters (an RDS instance identifier). */
export function restoredName(purpose: 'validation' | 'restore', runId: string, source: string): string {
  const base = `kura-${purpose === 'validation' ? 'v' : 'r'}-${runId}-${source}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-');
  return base.slice(0, 63).replace(/-$/, '');
}
