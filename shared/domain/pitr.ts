// Domain: is point-in-time restore healthy for a database? Pure.

export interface PitrState {
  backupRetentionDays: number;
  latestRestorableTime?: Date;
}

export interface PitrFinding {
  kind: 'retention' | 'rpo' | 'disabled' | 'unknown';
  message: string;
}

/**
 * The automated backups must cover the policy's days and the latest
 * restorable time must be no older than the RPO at the run's time.
 */
export function pitrFindings(
  db: PitrState,
  policy: { retainDays: number; rpoMinutes: number },
  now: Date,
): PitrFinding[] {
  const out: PitrFinding[] = [];
  if (db.backupRetentionDays === 0) {
    return [
      { kind: 'disabled', message: 'automated backups are disabled (retention 0): no point-in-time restore' },
    ];
  }
  if (db.backupRetentionDays < policy.retainDays) {
    out.push({
      kind: 'retention',
      message: `automated backup retention is ${db.backupRetentionDays} days; the policy needs at least ${policy.retainDays}`,
    });
  }
  if (!db.latestRestorableTime) {
    out.push({
      kind: 'unknown',
      message: 'no latest restorable time reported: point-in-time restore cannot be confirmed',
    });
  } else {
    const lagMinutes = Math.max(0, (now.getTime() - db.latestRestorableTime.getTime()) / 60_000);
    if (lagMinutes > policy.rpoMinutes) {
      out.push({
        kind: 'rpo',
        message: `latest restorable time is ${lagMinutes.toFixed(1)} minutes old; the RPO is ${policy.rpoMinutes} minutes`,
      });
    }
  }
  return out;
}
