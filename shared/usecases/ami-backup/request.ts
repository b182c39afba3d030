// Use case (image class): the request of one ami-backup run, from its event:
// a scheduled run, or one instance on demand with a reason.
import { InputError } from '../../runtime/errors.ts';
import type { ScheduledEvent } from '../../runtime/event.ts';

export interface AmiBackupRequest {
  now: Date;
  /** On demand: image this instance only. */
  instanceId?: string;
  /** Why this image was taken (on demand), kept in its tags and record. */
  reason?: string;
}

const DETAIL_KEYS = ['instance', 'reason'];

/** Reads `detail.instance` and `detail.reason` (what `kura invoke ami-backup --instance … --reason …` sends). */
export function amiBackupRequest(event: ScheduledEvent): AmiBackupRequest {
  const problems: string[] = [];
  const d = event.detail;
  for (const k of Object.keys(d)) {
    if (!DETAIL_KEYS.includes(k))
      problems.push(`event.detail.${k}: unknown; expected only ${DETAIL_KEYS.join(' or ')}`);
  }
  const req: AmiBackupRequest = { now: new Date(event.time) };
  if (d.instance !== undefined) {
    if (typeof d.instance !== 'string' || !/^i-[0-9a-f]{8,17}$/.test(d.instance)) {
      problems.push(
        `event.detail.instance: found ${JSON.stringify(d.instance)}; expected an EC2 instance id such as i-0123456789abcdef0`,
      );
    } else req.instanceId = d.instance;
  }
  if (d.reason !== undefined) {
    if (typeof d.reason !== 'string' || d.reason.trim() === '') {
      problems.push(
        `event.detail.reason: found ${JSON.stringify(d.reason)}; expected a short text such as "after nginx upgrade"`,
      );
    } else if (d.reason.length > 255) {
      problems.push(
        `event.detail.reason: ${d.reason.length} characters; expected at most 255 (it is stored as a tag value)`,
      );
    } else req.reason = d.reason.trim();
  }
  if (problems.length > 0) throw new InputError(problems);
  return req;
}
