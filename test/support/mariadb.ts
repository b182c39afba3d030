// Test support: a throwaway MariaDB server from Debian's packages, on a free
// loopback port with its own data directory, standing in for a restored RDS
// endpoint. The programs are found by test/support/tools.ts (tool 'mariadb').
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../local/emulator.ts';
import { requireTool, tool } from './tools.ts';
import { stopThrowawayServer } from './throwaway-server.ts';

export interface MariaDb {
  host: string;
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

export async function startMariaDb(password = 'probe-password-1'): Promise<MariaDb> {
  requireTool('mariadb');
  const [server, install] = tool('mariadb').programs as [string, string];
  const dir = mkdtempSync(join(tmpdir(), 'kura-mariadb-'));
  const datadir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const installed = spawnSync(
    install,
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { encoding: 'utf8' },
  );
  if (installed.status !== 0) throw new Error(`${install} failed: ${installed.stderr || installed.stdout}`);
  const port = await freePort();
  const child: ChildProcess = spawn(
    server,
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--user=root',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--log-error=${join(dir, 'error.log')}`,
    ],
    { stdio: 'ignore' },
  );
  const mysql = await import('mysql2/promise');
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`mariadbd exited with code ${child.exitCode}; see ${join(dir, 'error.log')}`);
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '' });
      // Anonymous users would shadow every named user connecting from localhost.
      const [anon] = await c.query("SELECT Host FROM mysql.user WHERE User = ''");
      for (const row of anon as { Host: string }[]) await c.query(`DROP USER ''@'${row.Host}'`);
      await c.query(`ALTER USER 'root'@'localhost' IDENTIFIED BY '${password}'`);
      await c.query(`CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '${password}'`);
      await c.query(`GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION`);
      await c.end();
      break;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`MariaDB did not accept connections on ${port}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    host: '127.0.0.1',
    port,
    user: 'root',
    password,
    stop: () => stopThrowawayServer(child, dir, 'SIGTERM'),
  };
}

/**
 * A reader on the stand-in server with the user and password a restored copy
 * has (as the access port or the secret names them), then `statements` run as
 * root (a schema and rows to read).
 */
export async function addReader(
  db: MariaDb,
  user: string,
  password: string,
  statements: string[] = [],
): Promise<void> {
  const quoted = password.replace(/'/g, "''");
  await asRoot(db, [
    `CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${quoted}'`,
    `ALTER USER '${user}'@'%' IDENTIFIED BY '${quoted}'`,
    `GRANT SELECT ON *.* TO '${user}'@'%'`,
    ...statements,
  ]);
}

/** Runs `statements` in order as the server's root user (times in UTC). */
export async function asRoot(db: MariaDb, statements: string[]): Promise<void> {
  const mysql = await import('mysql2/promise');
  const c = await mysql.createConnection({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    timezone: 'Z',
  });
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}
