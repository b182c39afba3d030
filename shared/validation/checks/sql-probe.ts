// Validation check (database): the SQL probes from policy.validation.sqlProbes,
// run against the restored database. Each probe's SQL returns one value in the
// first column of the first row; the kind says how to judge it:
//   rowCount          a number, at least `min` (default 1)
//   latestRowAge      the newest row's time (DATETIME in UTC, or epoch seconds);
//                     its age at the recovery point's time is the achieved RPO,
//                     at most `maxAgeMinutes` when set
//   migrationVersion  the schema migration version: present, at least `min` when set
//   value             any value, recorded (at least `min` when numeric and set)
import type { ProbeConnection } from '../../aws/db-access.ts';
import type { CheckResult } from '../../domain/validation-report.ts';
import type { Policy } from '../../policy/schema.ts';

export type SqlProbe = NonNullable<Policy['validation']>['sqlProbes'][number];

export interface SqlProbePort {
  /** The first column of the first row (undefined when no row). */
  queryValue(conn: ProbeConnection, sql: string): Promise<unknown>;
  close?(): Promise<void>;
}

const MYSQL_ENGINES = /^(mysql|mariadb|aurora-mysql|aurora)$/;

/** MySQL and MariaDB engines through mysql2 (loaded on first use). */
export class MysqlProbe implements SqlProbePort {
  async queryValue(conn: ProbeConnection, sql: string): Promise<unknown> {
    if (!MYSQL_ENGINES.test(conn.engine))
      throw new Error(`SQL probes support MySQL and MariaDB engines; found ${conn.engine}`);
    // The deployed check Lambda is built without mysql2 (serverless.yml
    // custom.esbuild.exclude): it cannot reach the isolated VPC anyway, and
    // the driver is ~1 MB of its bundle. Probes run where the VPC is reachable.
    const mysql = await import('mysql2/promise').catch((err: Error) => {
      throw new Error(
        `SQL probes need the mysql2 driver and a route into the isolated VPC; this runtime has neither (${err.message.split('\n')[0]}). Run the probes from a runner inside the isolated VPC (docs/validation.md).`,
      );
    });
    const c = await mysql.createConnection({
      host: conn.host,
      port: conn.port,
      user: conn.user,
      password: conn.password,
      database: conn.database,
      connectTimeout: 10_000,
      timezone: 'Z',
      dateStrings: false,
      supportBigNumbers: true,
      bigNumberStrings: false,
    });
    try {
      const [rows] = await c.query({ sql, rowsAsArray: true, timeout: 60_000 });
      const first = (rows as unknown[][])[0];
      return first?.[0];
    } finally {
      await c.end();
    }
  }
}

function asTime(v: unknown): Date | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v;
  if (typeof v === 'number' || typeof v === 'bigint') return new Date(Number(v) * 1000);
  if (typeof v === 'string') {
    if (/^\d+(\.\d+)?$/.test(v)) return new Date(Number(v) * 1000);
    const t = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`);
    return Number.isNaN(t.getTime()) ? undefined : t;
  }
  return undefined;
}

function scalar(v: unknown): string | number | boolean | null {
  if (v === undefined || v === null) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  return String(v);
}

/** Judges one probe's value. Pure. `rpoMinutes` is set for latestRowAge probes. */
export function evaluateProbe(
  probe: SqlProbe,
  value: unknown,
  recoveryPointTime: Date,
): CheckResult & { rpoMinutes?: number } {
  const name = `sql:${probe.name}`;
  if (value === undefined || value === null)
    return { name, status: 'fail', detail: `${probe.kind}: the query returned no value`, value: null };
  switch (probe.kind) {
    case 'rowCount': {
      const n = Number(value);
      const min = probe.min ?? 1;
      if (!Number.isFinite(n))
        return {
          name,
          status: 'fail',
          detail: `expected a row count, found ${String(value)}`,
          value: scalar(value),
        };
      return {
        name,
        status: n >= min ? 'pass' : 'fail',
        detail: `${n} rows (expected at least ${min})`,
        value: n,
      };
    }
    case 'latestRowAge': {
      const t = asTime(value);
      if (!t)
        return {
          name,
          status: 'fail',
          detail: `expected a time, found ${String(value)}`,
          value: scalar(value),
        };
      const rpoMinutes = Math.round(((recoveryPointTime.getTime() - t.getTime()) / 60_000) * 10) / 10;
      const over = probe.maxAgeMinutes !== undefined && rpoMinutes > probe.maxAgeMinutes;
      return {
        name,
        status: over ? 'fail' : 'pass',
        detail: `newest row ${t.toISOString()}: ${rpoMinutes} min before the recovery point${probe.maxAgeMinutes !== undefined ? ` (at most ${probe.maxAgeMinutes})` : ''}`,
        value: t.toISOString(),
        rpoMinutes,
      };
    }
    case 'migrationVersion': {
      const numeric = Number(value);
      const low = probe.min !== undefined && Number.isFinite(numeric) && numeric < probe.min;
      return {
        name,
        status: low ? 'fail' : 'pass',
        detail: `schema migration version ${String(scalar(value))}${probe.min !== undefined ? ` (expected at least ${probe.min})` : ''}`,
        value: scalar(value),
      };
    }
    default: {
      const numeric = Number(value);
      const low = probe.min !== undefined && Number.isFinite(numeric) && numeric < probe.min;
      return {
        name,
        status: low ? 'fail' : 'pass',
        detail: `value ${String(scalar(value))}${probe.min !== undefined ? ` (expected at least ${probe.min})` : ''}`,
        value: scalar(value),
      };
    }
  }
}

/** Runs every probe; a failing query fails its probe, not the others. */
export async function runProbes(
  port: SqlProbePort,
  conn: ProbeConnection,
  probes: SqlProbe[],
  recoveryPointTime: Date,
): Promise<{ checks: CheckResult[]; achievedRpoMinutes?: number }> {
  const checks: CheckResult[] = [];
  let achievedRpoMinutes: number | undefined;
  for (const probe of probes) {
    try {
      const r = evaluateProbe(probe, await port.queryValue(conn, probe.sql), recoveryPointTime);
      if (r.rpoMinutes !== undefined)
        achievedRpoMinutes = Math.max(achievedRpoMinutes ?? r.rpoMinutes, r.rpoMinutes);
      const { rpoMinutes: _, ...check } = r;
      checks.push(check);
    } catch (err) {
      const e = err as Error & { code?: string };
      checks.push({
        name: `sql:${probe.name}`,
        status: 'fail',
        detail: `query failed: ${e.code ?? e.name}: ${e.message}`,
      });
    }
  }
  return { checks, achievedRpoMinutes };
}
