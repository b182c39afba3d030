// Use case: `kura restore export`. Brings chosen data back out of a restore:
//   - a database: a SQL dump of chosen tables, read from the restored copy
//     (through the Session Manager port forward the restore's result names,
//     with the fresh password RDS keeps for it in the isolated account's
//     Secrets Manager), written to the vault under exports/<restore id>/;
//   - content: the restored objects, read from the isolated account with its
//     role and written to a bucket and prefix the request names with kura's
//     own credentials, never overwriting an object already there.
// planExport only reads (and is what the confirmation shows); runExport writes.
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Clients } from '../aws/clients.ts';
import type { Deps } from '../aws/deps.ts';
import { describeAwsError, isAwsError } from '../aws/errors.ts';
import { AwsExportObjects, type ExportObjectsPort } from '../aws/export-objects.ts';
import { type VaultLock, vaultLock } from '../aws/vault-lock.ts';
import { type RestoreStorePort, S3RestoreStore } from '../aws/restore-store.ts';
import { stamp } from '../policy/calendar.ts';
import { type ExportRequest, parseS3Prefix } from '../restore/export-request.ts';
import { connectIsolated } from '../restore/isolated-network.ts';
import { PORT_FORWARD_ADDRESS } from '../restore/operator-names.ts';
import type { ItemRecord } from '../restore/plan.ts';
import { type DumpSource, dumpSql, mysqlSource } from '../restore/sql-dump.ts';
import type { IsolatedTarget } from '../restore/types.ts';
import { InputError } from '../runtime/errors.ts';
import { type RestoreState, readRecords } from './restore.ts';

export const EXPORTS_PREFIX = 'exports/';
const MYSQL = /^(mysql|mariadb|aurora-mysql|aurora)$/;

export interface DatabaseExportPlan {
  instance: string;
  engine: string;
  via: string;
  user: string;
  secretArn: string;
  schema: string;
  tables: { table: string; rows: number }[];
  where?: string;
  to: string;
  recoveryPoint: { id: string; time: string };
}

export interface ContentExportPlan {
  source: string;
  from: { bucket: string; prefix: string };
  to: { bucket: string; prefix: string };
  objects: { key: string; size: number }[];
  /** Keys already at the target: kept as they are, never overwritten. */
  existing: string[];
  bytes: number;
}

export interface ExportPlan {
  requestId: string;
  reason: string;
  database?: DatabaseExportPlan;
  content: ContentExportPlan[];
}

export interface ExportPorts {
  /** The dump's source; tests point it at a stand-in database. */
  openDatabase(conn: { host: string; port: number; user: string; password: string }): Promise<DumpSource>;
  /** Objects and secrets where `clients` act (kura's own credentials, or the isolated account's role). */
  /** `lock`: the Object Lock every write into the vault states (vault-lock.ts). */
  objects(clients: Clients, region?: string, lock?: VaultLock): ExportObjectsPort;
}

export const awsExportPorts: ExportPorts = {
  openDatabase: mysqlSource,
  objects: (clients, region, lock) => new AwsExportObjects(clients, region, lock),
};

function doneItem(records: ItemRecord[], cls: string, source: string, requestId: string): ItemRecord {
  const rec = records.find((r) => r.class === cls && r.source === source);
  const restored = [...new Set(records.map((r) => `${r.class} ${r.source}`))].join(', ') || 'nothing';
  if (!rec)
    throw new InputError([`restore ${requestId} did not restore ${cls} ${source}; it restored: ${restored}`]);
  if (rec.status !== 'done' || !rec.restored)
    throw new InputError([
      `restore ${requestId}: ${cls} ${source} is ${rec.status}, not restored yet; see kura restore status ${requestId}`,
    ]);
  return rec;
}

async function planDatabase(
  deps: Deps,
  req: NonNullable<ExportRequest['database']>,
  rec: ItemRecord,
  target: IsolatedTarget,
  ports: ExportPorts,
  requestId: string,
): Promise<{ plan: DatabaseExportPlan; source: DumpSource }> {
  const a = rec.access;
  const engine = String(
    rec.recoveryPoint.details?.engine ?? rec.restored?.recoveryPoint.details?.engine ?? 'mysql',
  );
  if (!MYSQL.test(engine))
    throw new InputError([
      `database ${req.instance} is ${engine}: kura exports MySQL and MariaDB; for ${engine} run pg_dump through the same port forward (docs/runbook.md)`,
    ]);
  if (!a?.secret || !a.user)
    throw new InputError([
      `restore ${requestId}: database ${req.instance} has no managed password recorded (restored before kura recorded access); run the restore again with a new --id`,
    ]);
  const via = req.via ?? (a.endpoint ? `${a.endpoint}:${a.port ?? 3306}` : '');
  if (!via)
    throw new InputError([
      `--via: missing; expected host:port of the port forward, such as ${PORT_FORWARD_ADDRESS}`,
    ]);
  const [host, port] = [via.slice(0, via.lastIndexOf(':')), Number(via.slice(via.lastIndexOf(':') + 1))];
  const password = await ports.objects(target.clients, target.region).secretPassword(a.secret.arn);
  let source: DumpSource;
  try {
    source = await ports.openDatabase({ host, port, user: a.user, password });
  } catch (err) {
    const e = err as Error & { code?: string };
    throw new InputError([
      `cannot connect to the restored database through ${via} (${e.code ?? e.name}: ${e.message}); open the route first: ${a.route.kind === 'session-manager' ? a.route.commands[0] : ((a.route as { why?: string }).why ?? '')}`,
    ]);
  }
  const schema = req.schema ?? a.database ?? '';
  if (!schema) {
    await source.close();
    throw new InputError(['--schema: missing; expected the schema (MySQL database) the tables are in']);
  }
  const all = await source.tables(schema);
  const wanted = req.tables.length ? req.tables : all;
  const unknown = wanted.filter((t) => !all.includes(t));
  if (unknown.length || wanted.length === 0) {
    await source.close();
    throw new InputError([
      `--table: ${unknown.length ? unknown.map((t) => `"${t}"`).join(', ') : 'nothing'} not in ${schema}; tables there: ${all.join(', ') || '(none)'}`,
    ]);
  }
  const tables: { table: string; rows: number }[] = [];
  try {
    for (const t of wanted) tables.push({ table: t, rows: await source.count(schema, t, req.where) });
  } catch (err) {
    await source.close();
    throw new InputError([`--where: ${(err as Error).message}`]);
  }
  return {
    source,
    plan: {
      instance: req.instance,
      engine,
      via,
      user: a.user,
      secretArn: a.secret.arn,
      schema,
      tables,
      ...(req.where ? { where: req.where } : {}),
      to: `s3://${deps.policy.vault.bucket}/${EXPORTS_PREFIX}${requestId}/database/${req.instance}/`,
      recoveryPoint: { id: rec.recoveryPoint.id, time: rec.recoveryPoint.time },
    },
  };
}

async function planContent(
  deps: Deps,
  req: ExportRequest['content'][number],
  rec: ItemRecord,
  target: IsolatedTarget,
  ports: ExportPorts,
): Promise<ContentExportPlan> {
  const prefixRes = rec.restored?.resources.find((r) => r.type === 'kura::S3::Prefix');
  if (!prefixRes) throw new InputError([`content ${req.source}: the restore recorded no restored prefix`]);
  const from = parseS3Prefix(prefixRes.id.endsWith('/') ? prefixRes.id : `${prefixRes.id}/`);
  const to = parseS3Prefix(req.to);
  const objects = await ports.objects(target.clients, target.region).list(from.bucket, from.prefix);
  const mine = ports.objects(deps.clients, undefined, vaultLock(deps.policy));
  try {
    await mine.headBucket(to.bucket);
  } catch (err) {
    if (!isAwsError(err, 'notFound', 'accessDenied')) throw err;
    throw new InputError([
      `--to ${req.to}: the bucket cannot be reached (${describeAwsError(err)}); expected an existing bucket kura's credentials can write to`,
    ]);
  }
  const there = new Set((await mine.list(to.bucket, to.prefix)).map((o) => o.key));
  const rel = (k: string) => k.slice(from.prefix.length);
  return {
    source: req.source,
    from,
    to,
    objects,
    existing: objects.filter((o) => there.has(to.prefix + rel(o.key))).map((o) => to.prefix + rel(o.key)),
    bytes: objects.reduce((n, o) => n + o.size, 0),
  };
}

/** Read only: what the export will read and write; every problem is an InputError before anything is written. */
export async function planExport(
  deps: Deps,
  req: ExportRequest,
  ports: ExportPorts = awsExportPorts,
  store: RestoreStorePort = new S3RestoreStore(deps.clients, deps.policy.vault.bucket, vaultLock(deps.policy)),
): Promise<{ plan: ExportPlan; target: IsolatedTarget; source?: DumpSource }> {
  const state = await store.get<RestoreState>(req.restore, 'state.json');
  if (!state)
    throw new InputError([
      `restore ${req.restore}: not found in s3://${deps.policy.vault.bucket}/restores/; see kura restore list`,
    ]);
  if (state.cleanup)
    throw new InputError([`restore ${req.restore} was cleaned up: nothing of it is left to export`]);
  const records = await readRecords(req.restore, store);
  const target = await connectIsolated(deps);
  let database: Awaited<ReturnType<typeof planDatabase>> | undefined;
  if (req.database) {
    const rec = doneItem(records, 'database', req.database.instance, req.restore);
    database = await planDatabase(deps, req.database, rec, target, ports, req.restore);
  }
  const content: ContentExportPlan[] = [];
  try {
    for (const c of req.content)
      content.push(
        await planContent(deps, c, doneItem(records, 'content', c.source, req.restore), target, ports),
      );
  } catch (err) {
    await database?.source.close();
    throw err;
  }
  return {
    plan: {
      requestId: req.restore,
      reason: req.reason ?? state.plan.reason,
      database: database?.plan,
      content,
    },
    target,
    source: database?.source,
  };
}

export interface ExportResult {
  requestId: string;
  database?: {
    location: string;
    manifest: string;
    bytes: number;
    sha256: string;
    tables: { table: string; rows: number }[];
    download: string;
  };
  content: { source: string; to: string; copied: number; bytes: number; skippedExisting: string[] }[];
}

async function exportDatabase(
  deps: Deps,
  plan: ExportPlan,
  db: DatabaseExportPlan,
  source: DumpSource,
  now: Date,
  objects: ExportObjectsPort,
): Promise<NonNullable<ExportResult['database']>> {
  const key = `${EXPORTS_PREFIX}${plan.requestId}/database/${db.instance}/${stamp(now)}-${db.schema}.sql.gz`;
  const gzip = createGzip();
  const body = new PassThrough();
  const hash = createHash('sha256');
  let bytes = 0;
  gzip.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  gzip.pipe(body);
  // Streamed into the vault while the dump is read (the upload carries a SHA-256: Object Lock).
  const done = objects.upload(deps.policy.vault.bucket, key, body, {
    contentType: 'application/sql',
    contentEncoding: 'gzip',
  });
  const tables: { table: string; rows: number }[] = [];
  try {
    const header = [
      `kura restore export of restore ${plan.requestId} (${plan.reason})`,
      `database ${db.instance} (${db.engine}), recovery point ${db.recoveryPoint.id} taken ${db.recoveryPoint.time}`,
      `schema ${db.schema}; made ${now.toISOString()}; load through your change process: INSERT statements only`,
    ];
    for await (const piece of dumpSql(
      source,
      { schema: db.schema, tables: db.tables.map((t) => t.table), where: db.where, header },
      (t) => tables.push(t),
    )) {
      if (!gzip.write(piece)) await new Promise((r) => gzip.once('drain', r));
    }
  } finally {
    gzip.end();
    await source.close();
  }
  await done;
  const sha256 = hash.digest('hex');
  const manifest = `${key}.json`;
  await objects.putText(
    deps.policy.vault.bucket,
    manifest,
    `${JSON.stringify({ kind: 'kura.export', requestId: plan.requestId, reason: plan.reason, database: db.instance, schema: db.schema, recoveryPoint: db.recoveryPoint, where: db.where, tables, bytes, sha256, madeAt: now.toISOString() }, null, 2)}\n`,
    'application/json',
  );
  const location = `s3://${deps.policy.vault.bucket}/${key}`;
  return {
    location,
    manifest: `s3://${deps.policy.vault.bucket}/${manifest}`,
    bytes,
    sha256,
    tables,
    download: `aws s3 cp ${location} .`,
  };
}

async function exportContent(
  deps: Deps,
  target: IsolatedTarget,
  c: ContentExportPlan,
  ports: ExportPorts,
): Promise<ExportResult['content'][number]> {
  const from = ports.objects(target.clients, target.region);
  const to = ports.objects(deps.clients, undefined, vaultLock(deps.policy));
  const skipped = new Set(c.existing);
  let copied = 0;
  let bytes = 0;
  for (const o of c.objects) {
    const dest = c.to.prefix + o.key.slice(c.from.prefix.length);
    if (skipped.has(dest)) continue;
    // Streamed: read with the isolated account's role, written with kura's own credentials
    // (no cross-account grant needed). Type and metadata travel; the restore's tags do not.
    const got = await from.read(c.from.bucket, o.key);
    try {
      await to.write(
        c.to.bucket,
        dest,
        { body: got.body, size: got.size ?? o.size, contentType: got.contentType, metadata: got.metadata },
        // Never overwrite: an object that appeared since the plan stays as it is.
        { ifNoneMatch: '*' },
      );
      copied++;
      bytes += o.size;
    } catch (err) {
      if (!isAwsError(err, 'preconditionFailed')) throw err;
      skipped.add(dest);
    }
  }
  return {
    source: c.source,
    to: `s3://${c.to.bucket}/${c.to.prefix}`,
    copied,
    bytes,
    skippedExisting: [...skipped].sort(),
  };
}

export async function runExport(
  deps: Deps,
  planned: { plan: ExportPlan; target: IsolatedTarget; source?: DumpSource },
  now = new Date(deps.clients.timer.now()),
  ports: ExportPorts = awsExportPorts,
): Promise<ExportResult> {
  const { plan, target, source } = planned;
  const result: ExportResult = { requestId: plan.requestId, content: [] };
  if (plan.database && source)
    result.database = await exportDatabase(
      deps,
      plan,
      plan.database,
      source,
      now,
      ports.objects(deps.clients, undefined, vaultLock(deps.policy)),
    );
  for (const c of plan.content) result.content.push(await exportContent(deps, target, c, ports));
  return result;
}
