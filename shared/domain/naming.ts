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
