// Validation (database): what the probe runner does inside the isolated
// network. The validation function (kura account) cannot reach a restored
// database; it invokes the runner the isolated-account template deploys in
// the isolated subnets, through the kura-restore role (docs/validation.md).
// The request names where the database is and which secret holds its fresh
// master password; never the password itself. Pure of AWS: the secret is read
// and the database queried through ports.
import * as z from 'zod/mini';
import type { ProbeConnection } from '../aws/db-access.ts';
import type { CheckResult } from '../domain/validation-report.ts';
import { runProbes, type SqlProbePort } from './checks/sql-probe.ts';

const probe = z.strictObject({
  name: z.string(),
  sql: z.string(),
  kind: z.enum(['rowCount', 'latestRowAge', 'migrationVersion', 'value']),
  min: z.optional(z.number()),
  maxAgeMinutes: z.optional(z.number()),
});

/** The runner's event (**contract** between the validation function and the isolated account's runner). */
export const probeRequestSchema = z.strictObject({
  engine: z.string(),
  host: z.string(),
  port: z.int(),
  database: z.optional(z.string()),
  /** The restored copy's master credentials (RDS-managed secret: username and password). */
  secretArn: z.string().check(z.startsWith('arn:')),
  probes: z.array(probe),
  /** The recovery point's time: latestRowAge probes measure the achieved RPO against it. */
  recoveryPointTime: z.iso.datetime({ offset: true }),
});
export type ProbeRequest = z.infer<typeof probeRequestSchema>;

export interface ProbeResponse {
  checks: CheckResult[];
  achievedRpoMinutes?: number;
}

export interface ProbeRunnerDeps {
  /** The username and password a secret holds. */
  readSecret: (secretArn: string) => Promise<{ username: string; password: string }>;
  sql: SqlProbePort;
}

/** Reads the secret, connects (with verified TLS) and runs every probe; a failure is a failed check, never a skip. */
export async function runProbeRequest(req: ProbeRequest, deps: ProbeRunnerDeps): Promise<ProbeResponse> {
  let creds: { username: string; password: string };
  try {
    creds = await deps.readSecret(req.secretArn);
  } catch (err) {
    const e = err as Error;
    return {
      checks: [
        {
          name: 'sql probes',
          status: 'fail',
          detail: `cannot read the master password from ${req.secretArn}: ${e.name}: ${e.message}`,
        },
      ],
    };
  }
  const conn: ProbeConnection = {
    engine: req.engine,
    host: req.host,
    port: req.port,
    database: req.database,
    user: creds.username,
    password: creds.password,
    tls: true,
  };
  try {
    return await runProbes(deps.sql, conn, req.probes, new Date(req.recoveryPointTime));
  } finally {
    await deps.sql.close?.();
  }
}
