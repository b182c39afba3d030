// Local runtime: the database a restored RDS endpoint would be. The emulator's
// RDS runs no database and its endpoints resolve nowhere, so the probe runner,
// played in-process (local/probe-runner.ts), reaches a real server on loopback
// registered for its engine family (MariaDB, PostgreSQL from Debian's packages,
// started by the tests). What RDS does when it applies the managed master
// password to the copy, this does too: the secret's user gets that password on
// the stand-in (read-only). The stand-ins have no TLS certificate: the
// runner's verified TLS is the one thing not reproduced.
import type { ProbeConnection } from '../shared/aws/db-access.ts';
import { EngineProbe, engineFamily, type SqlProbePort } from '../shared/validation/checks/sql-probe.ts';

export interface StandInDatabase {
  family: 'mysql' | 'postgres';
  host: string;
  port: number;
  /** The server's administrator (creates the copy's master user). */
  adminUser: string;
  adminPassword: string;
}

async function admit(db: StandInDatabase, user: string, password: string): Promise<void> {
  if (user === db.adminUser)
    throw new Error(`the restored copy's master user ${user} is the stand-in server's administrator`);
  if (db.family === 'mysql') {
    const mysql = await import('mysql2/promise');
    const c = await mysql.createConnection({
      host: db.host,
      port: db.port,
      user: db.adminUser,
      password: db.adminPassword,
      connectTimeout: 10_000,
    });
    try {
      await c.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [user, '%', password]);
      await c.query('ALTER USER ?@? IDENTIFIED BY ?', [user, '%', password]);
      await c.query('GRANT SELECT ON *.* TO ?@?', [user, '%']);
    } finally {
      await c.end();
    }
    return;
  }
  const { default: pg } = await import('pg');
  const c = new pg.Client({
    host: db.host,
    port: db.port,
    user: db.adminUser,
    password: db.adminPassword,
    database: 'postgres',
    connectionTimeoutMillis: 10_000,
  });
  await c.connect();
  try {
    const ident = c.escapeIdentifier(user);
    const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
    await c.query(
      `${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${ident} WITH LOGIN PASSWORD ${c.escapeLiteral(password)}`,
    );
    await c.query(`GRANT pg_read_all_data TO ${ident}`);
  } finally {
    await c.end();
  }
}

/** The SQL port the in-process runner uses: the restored endpoint routed to its stand-in. */
export function standInProbe(
  databases: StandInDatabase[],
  inner: SqlProbePort = new EngineProbe(),
): SqlProbePort {
  const admitted = new Set<string>();
  return {
    async queryValue(conn: ProbeConnection, sql: string): Promise<unknown> {
      const family = engineFamily(conn.engine);
      const db = databases.find((d) => d.family === family);
      if (!db)
        throw Object.assign(
          new Error(
            `no route to ${conn.host}:${conn.port}: no local database stands in for the restored ${conn.engine} copy`,
          ),
          { code: 'EHOSTUNREACH' },
        );
      const key = `${db.host}:${db.port}/${conn.user}/${conn.password}`;
      if (!admitted.has(key)) {
        await admit(db, conn.user, conn.password);
        admitted.add(key);
      }
      return inner.queryValue({ ...conn, host: db.host, port: db.port, tls: false }, sql);
    },
  };
}
