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

/** The point-in-time window of one database as a report shows it: what it covers and how far behind it is. */
export interface PitrStatus {
  source: string;
  /** Automated backup retention configured on the database (days). */
  retentionDays: number;
  /** What the window really spans now: latest restorable time minus the earliest (days), when known. */
  windowDays?: number;
  earliest?: string;
  latest?: string;
  /** database.retainDays */
  targetDays: number;
  /** Report time minus the latest restorable time. */
  lagMinutes?: number;
  /** database.rpoMinutes */
  targetMinutes: number;
  /** One line per way the window falls short of the policy (empty: it holds). */
  drift: string[];
}

export function pitrStatus(
  db: PitrState & { source: string; earliestRestorableTime?: Date },
  policy: { retainDays: number; rpoMinutes: number },
  at: Date,
): PitrStatus {
  const round1 = (n: number) => Math.round(n * 10) / 10;
  const latest = db.latestRestorableTime;
  const earliest = db.earliestRestorableTime;
  return {
    source: db.source,
    retentionDays: db.backupRetentionDays,
    ...(latest && earliest
      ? { windowDays: round1((latest.getTime() - earliest.getTime()) / 86_400_000) }
      : {}),
    ...(earliest ? { earliest: earliest.toISOString() } : {}),
    ...(latest ? { latest: latest.toISOString() } : {}),
    targetDays: policy.retainDays,
    ...(latest ? { lagMinutes: round1(Math.max(0, (at.getTime() - latest.getTime()) / 60_000)) } : {}),
    targetMinutes: policy.rpoMinutes,
    drift: pitrFindings(db, policy, at).map((f) => f.message),
  };
}
