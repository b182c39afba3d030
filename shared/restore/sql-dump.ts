// Restore: a SQL dump of chosen tables of a restored MySQL/MariaDB database,
// streamed row by row (a table of any size never sits in memory). The dump
// holds INSERT statements to load through the normal change process; each
// table's schema as restored is written as a comment, so loading the file
// never creates or alters a table by itself.
import type { Readable } from 'node:stream';

export interface DumpConnection {
  /** Absent: the driver's default, this machine (a port forward's local end). */
  host?: string;
  port: number;
  user: string;
  password: string;
}

/** What a dump reads; the MySQL implementation below, a stand-in in tests. */
export interface DumpSource {
  tables(schema: string): Promise<string[]>;
  createTable(schema: string, table: string): Promise<string>;
  count(schema: string, table: string, where?: string): Promise<number>;
  rows(schema: string, table: string, where?: string): AsyncIterable<Record<string, unknown>>;
  escape(value: unknown): string;
  close(): Promise<void>;
}

const q = (name: string) => `\`${name.replace(/`/g, '``')}\``;
const whereSql = (where?: string) => (where ? ` WHERE ${where}` : '');

/** MySQL and MariaDB through mysql2 (loaded on first use). */
export async function mysqlSource(conn: DumpConnection): Promise<DumpSource> {
  const mysql = await import('mysql2');
  const c = mysql.createConnection({
    host: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    connectTimeout: 10_000,
    // Values exactly as stored: dates as written, big numbers as text.
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
  });
  const p = c.promise();
  const one = async <T>(sql: string, values: unknown[] = []): Promise<T[]> =>
    (await p.query({ sql, values }))[0] as T[];
  await one('SELECT 1');
  return {
    async tables(schema) {
      const rows = await one<{ name: string }>(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        [schema],
      );
      return rows.map((r) => r.name);
    },
    async createTable(schema, table) {
      const rows = await one<Record<string, string>>(`SHOW CREATE TABLE ${q(schema)}.${q(table)}`);
      return rows[0]?.['Create Table'] ?? '';
    },
    async count(schema, table, where) {
      const rows = await one<{ n: string | number }>(
        `SELECT COUNT(*) AS n FROM ${q(schema)}.${q(table)}${whereSql(where)}`,
      );
      return Number(rows[0]?.n ?? 0);
    },
    rows(schema, table, where) {
      return c
        .query(`SELECT * FROM ${q(schema)}.${q(table)}${whereSql(where)}`)
        .stream({ highWaterMark: 500 }) as Readable & AsyncIterable<Record<string, unknown>>;
    },
    escape: (v) => mysql.escape(v as Parameters<typeof mysql.escape>[0]),
    close: () => p.end(),
  };
}

export interface DumpedTable {
  table: string;
  rows: number;
}

/**
 * The dump, piece by piece: a header, then per table its restored schema (as
 * a comment) and INSERT statements of up to `batch` rows. `onTable` reports
 * each table's row count as it finishes.
 */
export async function* dumpSql(
  src: DumpSource,
  opts: { schema: string; tables: string[]; where?: string; header: string[]; batch?: number },
  onTable: (t: DumpedTable) => void = () => {},
): AsyncGenerator<string> {
  const batch = opts.batch ?? 500;
  yield `${opts.header.map((h) => `-- ${h}`).join('\n')}\nSET NAMES utf8mb4;\n`;
  for (const table of opts.tables) {
    const create = await src.createTable(opts.schema, table);
    yield `\n-- Table ${q(opts.schema)}.${q(table)}${opts.where ? ` WHERE ${opts.where}` : ''}\n-- as restored:\n${create
      .split('\n')
      .map((l) => `--   ${l}`)
      .join('\n')}\n`;
    let rows = 0;
    let pending: string[] = [];
    let columns = '';
    for await (const row of src.rows(opts.schema, table, opts.where)) {
      if (!columns) columns = Object.keys(row).map(q).join(', ');
      pending.push(
        `(${Object.values(row)
          .map((v) => src.escape(v))
          .join(', ')})`,
      );
      rows++;
      if (pending.length >= batch) {
        yield `INSERT INTO ${q(table)} (${columns}) VALUES\n${pending.join(',\n')};\n`;
        pending = [];
      }
    }
    if (pending.length) yield `INSERT INTO ${q(table)} (${columns}) VALUES\n${pending.join(',\n')};\n`;
    yield `-- ${rows} row(s)\n`;
    onTable({ table, rows });
  }
}
