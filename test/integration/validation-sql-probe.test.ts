// The SQL probes of the database check against a real MariaDB (Debian's
// mariadb-server) and a real PostgreSQL (Debian's postgresql) started on free
// loopback ports: they stand in for the endpoints of databases restored into
// the isolated account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeConnection } from '../../shared/aws/db-access.ts';
import {
  EngineProbe,
  MysqlProbe,
  runProbes,
  type SqlProbe,
} from '../../shared/validation/checks/sql-probe.ts';
import { asRoot, type MariaDb, startMariaDb } from '../support/mariadb.ts';
import { asPostgresAdmin, type Postgres, startPostgres } from '../support/postgres.ts';
import { tool, toolOrSkip } from '../support/tools.ts';

// Each check needs MariaDB: skipped with the reason without it, failed under CI.
describe('SQL probes against MariaDB', () => {
  let db: MariaDb;
  let conn: ProbeConnection;
  const backupTime = new Date('2026-11-01T04:00:00Z');

  beforeAll(async () => {
    if (!tool('mariadb').path) return;
    db = await startMariaDb();
    conn = { engine: 'mariadb', host: db.host, port: db.port, user: db.user, password: db.password };
    await asRoot(db, [
      'CREATE DATABASE shop',
      'CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, created_at DATETIME NOT NULL)',
      "INSERT INTO shop.orders (created_at) VALUES ('2026-10-31 23:00:00'), ('2026-11-01 03:52:30'), ('2026-11-01 03:40:00')",
      'CREATE TABLE shop.schema_migrations (version BIGINT NOT NULL)',
      'INSERT INTO shop.schema_migrations VALUES (20261020), (20261028)',
    ]);
  });

  afterAll(async () => {
    await db?.stop();
  });

  it('measures row counts, the newest row as achieved RPO and the migration version when the data is there', async (ctx) => {
    toolOrSkip(ctx, 'mariadb');
    // Prepare
    const probes: SqlProbe[] = [
      { name: 'orders', kind: 'rowCount', sql: 'SELECT COUNT(*) FROM shop.orders', min: 3 },
      {
        name: 'orders-fresh',
        kind: 'latestRowAge',
        sql: 'SELECT MAX(created_at) FROM shop.orders',
        maxAgeMinutes: 60,
      },
      {
        name: 'schema',
        kind: 'migrationVersion',
        sql: 'SELECT MAX(version) FROM shop.schema_migrations',
        min: 20261028,
      },
    ];

    // Act
    const out = await runProbes(new MysqlProbe(), conn, probes, backupTime);

    // Assess
    expect(out.checks.map((c) => [c.name, c.status])).toEqual([
      ['sql:orders', 'pass'],
      ['sql:orders-fresh', 'pass'],
      ['sql:schema', 'pass'],
    ]);
    expect(out.checks[0]?.value).toBe(3);
    expect(out.checks[1]?.value).toBe('2026-11-01T03:52:30.000Z');
    expect(out.achievedRpoMinutes).toBe(7.5);
    expect(out.checks[2]?.value).toBe(20261028);
  });

  it('fails each probe with its own reason when data is missing, stale or the SQL is wrong', async (ctx) => {
    toolOrSkip(ctx, 'mariadb');
    // Prepare
    const probes: SqlProbe[] = [
      { name: 'too-few', kind: 'rowCount', sql: 'SELECT COUNT(*) FROM shop.orders', min: 10 },
      {
        name: 'stale',
        kind: 'latestRowAge',
        sql: 'SELECT MAX(created_at) FROM shop.orders',
        maxAgeMinutes: 5,
      },
      { name: 'no-table', kind: 'rowCount', sql: 'SELECT COUNT(*) FROM shop.missing' },
      {
        name: 'old-schema',
        kind: 'migrationVersion',
        sql: 'SELECT MAX(version) FROM shop.schema_migrations',
        min: 20261101,
      },
      { name: 'empty', kind: 'latestRowAge', sql: 'SELECT created_at FROM shop.orders WHERE id < 0' },
    ];

    // Act
    const out = await runProbes(new MysqlProbe(), conn, probes, backupTime);

    // Assess
    expect(out.checks.every((c) => c.status === 'fail')).toBe(true);
    expect(out.checks[0]?.detail).toContain('3 rows (expected at least 10)');
    expect(out.checks[1]?.detail).toContain('7.5 min before the recovery point (at most 5)');
    expect(out.checks[2]?.detail).toMatch(/ER_NO_SUCH_TABLE/);
    expect(out.checks[3]?.detail).toContain('expected at least 20261101');
    expect(out.checks[4]?.detail).toContain('returned no value');
  });

  it('fails with the connection error when the credentials are wrong', async (ctx) => {
    toolOrSkip(ctx, 'mariadb');
    // Act
    const out = await runProbes(
      new MysqlProbe(),
      { ...conn, password: 'wrong' },
      [{ name: 'orders', kind: 'rowCount', sql: 'SELECT 1' }],
      backupTime,
    );

    // Assess
    expect(out.checks).toHaveLength(1);
    expect(out.checks[0]?.name).toBe('sql probes');
    expect(out.checks[0]?.status).toBe('fail');
    expect(out.checks[0]?.detail).toMatch(
      /cannot connect to mariadb at 127\.0\.0\.1:\d+ as root: ER_ACCESS_DENIED/,
    );
  });
});

describe('SQL probes against PostgreSQL', () => {
  let db: Postgres;
  let conn: ProbeConnection;
  const backupTime = new Date('2026-11-01T04:00:00Z');

  beforeAll(async () => {
    if (!tool('postgresql').path) return;
    db = await startPostgres();
    conn = {
      engine: 'postgres',
      host: db.host,
      port: db.port,
      user: db.user,
      password: db.password,
      database: 'shop',
    };
    await asPostgresAdmin(db, ['CREATE DATABASE shop']);
    await asPostgresAdmin(
      db,
      [
        'CREATE TABLE orders (id SERIAL PRIMARY KEY, created_at TIMESTAMP NOT NULL)',
        "INSERT INTO orders (created_at) VALUES ('2026-10-31 23:00:00'), ('2026-11-01 03:52:30'), ('2026-11-01 03:40:00')",
        'CREATE TABLE events (at TIMESTAMPTZ NOT NULL)',
        "INSERT INTO events VALUES ('2026-11-01 12:55:00+09')",
        'CREATE TABLE schema_migrations (version BIGINT NOT NULL)',
        'INSERT INTO schema_migrations VALUES (20261020), (20261028)',
      ],
      'shop',
    );
  });

  afterAll(async () => {
    await db?.stop();
  });

  it('measures row counts, the newest row (timestamp in UTC or timestamptz) and the migration version', async (ctx) => {
    toolOrSkip(ctx, 'postgresql');
    // Prepare
    const probes: SqlProbe[] = [
      { name: 'orders', kind: 'rowCount', sql: 'SELECT COUNT(*) FROM orders', min: 3 },
      {
        name: 'orders-fresh',
        kind: 'latestRowAge',
        sql: 'SELECT MAX(created_at) FROM orders',
        maxAgeMinutes: 60,
      },
      { name: 'events-fresh', kind: 'latestRowAge', sql: 'SELECT MAX(at) FROM events' },
      {
        name: 'schema',
        kind: 'migrationVersion',
        sql: 'SELECT MAX(version) FROM schema_migrations',
        min: 20261028,
      },
    ];

    // Act
    const out = await runProbes(new EngineProbe(), conn, probes, backupTime);

    // Assess
    expect(out.checks.map((c) => [c.name, c.status])).toEqual([
      ['sql:orders', 'pass'],
      ['sql:orders-fresh', 'pass'],
      ['sql:events-fresh', 'pass'],
      ['sql:schema', 'pass'],
    ]);
    expect(out.checks[0]?.value).toBe(3);
    expect(out.checks[1]?.value).toBe('2026-11-01T03:52:30.000Z');
    expect(out.checks[2]?.value).toBe('2026-11-01T03:55:00.000Z');
    expect(out.achievedRpoMinutes).toBe(7.5);
    expect(out.checks[3]?.detail).toContain('20261028');
  });

  it("fails a wrong query with PostgreSQL's own error, and a wrong password as one failed connection", async (ctx) => {
    toolOrSkip(ctx, 'postgresql');
    // Act
    const wrongSql = await runProbes(
      new EngineProbe(),
      conn,
      [{ name: 'no-table', kind: 'rowCount', sql: 'SELECT COUNT(*) FROM missing' }],
      backupTime,
    );
    const wrongPassword = await runProbes(
      new EngineProbe(),
      { ...conn, password: 'wrong' },
      [{ name: 'orders', kind: 'rowCount', sql: 'SELECT COUNT(*) FROM orders' }],
      backupTime,
    );

    // Assess
    expect(wrongSql.checks[0]?.status).toBe('fail');
    expect(wrongSql.checks[0]?.detail).toMatch(/query failed: 42P01: relation "missing" does not exist/);
    expect(wrongPassword.checks).toEqual([
      expect.objectContaining({
        name: 'sql probes',
        status: 'fail',
        detail: expect.stringMatching(
          /cannot connect to postgres at 127\.0\.0\.1:\d+ as kura_admin: 28P01: password authentication failed/,
        ),
      }),
    ]);
  });
});
