// Test support: a throwaway PostgreSQL server from Debian's packages, on a
// free loopback port with its own data directory, standing in for a restored
// RDS for PostgreSQL endpoint. The programs are found by test/support/tools.ts
// (tool 'postgresql'). PostgreSQL refuses to run as root: as root, the server
// runs as the `postgres` user the Debian package creates.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../local/emulator.ts';
import { requireTool, tool } from './tools.ts';
import { stopThrowawayServer } from './throwaway-server.ts';

export interface Postgres {
  host: string;
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0)
    throw new Error(
      'PostgreSQL does not run as root and there is no postgres user: apt-get install postgresql',
    );
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPostgres(password = 'probe-admin-1'): Promise<Postgres> {
  requireTool('postgresql');
  const [initdb, server] = tool('postgresql').programs as [string, string];
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'kura-postgres-'));
  if (as.uid !== undefined) chownSync(dir, as.uid, as.gid ?? as.uid);
  const datadir = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (as.uid !== undefined) chownSync(pwfile, as.uid, as.gid ?? as.uid);
  const user = 'kura_admin';
  const init = spawnSync(
    initdb,
    ['-D', datadir, '-U', user, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-locale'],
    { encoding: 'utf8', ...as },
  );
  if (init.status !== 0) throw new Error(`${initdb} failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const child: ChildProcess = spawn(
    server,
    [
      '-D',
      datadir,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'shared_buffers=16MB',
      '-c',
      'TimeZone=UTC',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], ...as },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-4000);
  });
  const { default: pg } = await import('pg');
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode}: ${stderr}`);
    const c = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres' });
    try {
      await c.connect();
      await c.end();
      break;
    } catch (err) {
      await c.end().catch(() => {});
      if (Date.now() > deadline)
        throw new Error(`PostgreSQL did not accept connections on ${port}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    // Fast shutdown: roll back open transactions and stop.
    stop: () => stopThrowawayServer(child, dir, 'SIGINT'),
  };
}

/** Runs `statements` in order as the server's administrator, in `database` (default postgres). */
export async function asPostgresAdmin(
  db: Postgres,
  statements: string[],
  database = 'postgres',
): Promise<void> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database });
  await c.connect();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}
