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
const POSTGRES_ENGINES = /^(postgres|aurora-postgresql)$/;

/** Which driver an RDS engine needs (undefined: none of kura's). */
export function engineFamily(engine: string): 'mysql' | 'postgres' | undefined {
  if (MYSQL_ENGINES.test(engine)) return 'mysql';
  if (POSTGRES_ENGINES.test(engine)) return 'postgres';
  return undefined;
}

/** MySQL and MariaDB engines through mysql2 (loaded on first use). */
export class MysqlProbe implements SqlProbePort {
  async queryValue(conn: ProbeConnection, sql: string): Promise<unknown> {
    if (engineFamily(conn.engine) !== 'mysql')
      throw new Error(`the MySQL probe supports MySQL and MariaDB engines; found ${conn.engine}`);
    const mysql = await import('mysql2/promise');
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
      // Verified TLS to RDS (the runner trusts the RDS CAs through NODE_EXTRA_CA_CERTS).
      ssl: conn.tls ? { rejectUnauthorized: true } : undefined,
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

/** PostgreSQL engines (RDS and Aurora) through pg (loaded on first use). */
export class PostgresProbe implements SqlProbePort {
  async queryValue(conn: ProbeConnection, sql: string): Promise<unknown> {
    if (engineFamily(conn.engine) !== 'postgres')
      throw new Error(`the PostgreSQL probe supports postgres and aurora-postgresql; found ${conn.engine}`);
    const { default: pg } = await import('pg');
    const client = new pg.Client({
      host: conn.host,
      port: conn.port,
      user: conn.user,
      password: conn.password,
      database: conn.database ?? 'postgres',
      connectionTimeoutMillis: 10_000,
      query_timeout: 60_000,
      statement_timeout: 60_000,
      // RDS for PostgreSQL 15+ refuses clients without TLS (rds.force_ssl).
      ssl: conn.tls ? { rejectUnauthorized: true } : false,
      types: {
        // timestamp without time zone holds UTC (as the probes' DATETIME does): not the runner's local time.
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === 1114 && format !== 'binary'
            ? (v: string) => new Date(`${v.replace(' ', 'T')}Z`)
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    await client.connect();
    try {
      const r = await client.query({ text: sql, rowMode: 'array' });
      return (r.rows as unknown[][])[0]?.[0];
    } finally {
      await client.end();
    }
  }
}

/** The probe for the connection's engine: MySQL/MariaDB or PostgreSQL. */
export class EngineProbe implements SqlProbePort {
  private readonly mysql = new MysqlProbe();
  private readonly postgres = new PostgresProbe();
  queryValue(conn: ProbeConnection, sql: string): Promise<unknown> {
    const family = engineFamily(conn.engine);
    if (family === 'mysql') return this.mysql.queryValue(conn, sql);
    if (family === 'postgres') return this.postgres.queryValue(conn, sql);
    return Promise.reject(
      new Error(`SQL probes support MySQL, MariaDB and PostgreSQL engines; found ${conn.engine}`),
    );
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

/**
 * Runs every probe; a failing query fails its probe, not the others. A database
 * it cannot connect to is one failed `sql probes` check naming why.
 */
export async function runProbes(
  port: SqlProbePort,
  conn: ProbeConnection,
  probes: SqlProbe[],
  recoveryPointTime: Date,
): Promise<{ checks: CheckResult[]; achievedRpoMinutes?: number }> {
  const checks: CheckResult[] = [];
  let achievedRpoMinutes: number | undefined;
  try {
    // One connection first: a database the runner cannot reach fails as that, with the reason.
    await port.queryValue(conn, 'SELECT 1');
  } catch (err) {
    const e = err as Error & { code?: string };
    return {
      checks: [
        {
          name: 'sql probes',
          status: 'fail',
          detail: `cannot connect to ${conn.engine} at ${conn.host}:${conn.port} as ${conn.user}: ${e.code ?? e.name}: ${e.message}`,
        },
      ],
    };
  }
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
