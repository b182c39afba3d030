// Use case (`kura restore export`): the plan, read only (and what the
// confirmation shows); every problem is an InputError before anything is written.
import type { Deps } from '../../aws/deps.ts';
import { type ExportRequest, parseS3Prefix } from '../../restore/export-request.ts';
import { PORT_FORWARD_VIA } from '../../domain/operator-commands.ts';
import type { ItemRecord } from '../../restore/plan.ts';
import type { DumpSource } from '../../restore/sql-dump.ts';
import type { IsolatedTarget } from '../../restore/types.ts';
import { describeAwsError, isAwsError } from '../../runtime/aws-errors.ts';
import { InputError } from '../../runtime/errors.ts';
import { readRecords, type RestoreState } from '../restore/state.ts';
import {
  type ContentExportPlan,
  type DatabaseExportPlan,
  EXPORTS_PREFIX,
  type ExportPlan,
  type ExportPorts,
} from './ports.ts';

const MYSQL = /^(mysql|mariadb|aurora-mysql|aurora)$/;

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
      `--via: missing; expected host:port of the port forward, or its port alone on this machine, such as ${PORT_FORWARD_VIA}`,
    ]);
  // A port alone is this machine's (the driver's default host): the port forward's local end.
  const colon = via.lastIndexOf(':');
  const host = colon < 0 ? undefined : via.slice(0, colon);
  const port = Number(via.slice(colon + 1));
  const password = await ports.isolated(target).secretPassword(a.secret.arn);
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
  req: ExportRequest['content'][number],
  rec: ItemRecord,
  target: IsolatedTarget,
  ports: ExportPorts,
): Promise<ContentExportPlan> {
  const prefixRes = rec.restored?.resources.find((r) => r.type === 'kura::S3::Prefix');
  if (!prefixRes) throw new InputError([`content ${req.source}: the restore recorded no restored prefix`]);
  const from = parseS3Prefix(prefixRes.id.endsWith('/') ? prefixRes.id : `${prefixRes.id}/`);
  const to = parseS3Prefix(req.to);
  const objects = await ports.isolated(target).list(from.bucket, from.prefix);
  const mine = ports.own;
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
  ports: ExportPorts,
): Promise<{ plan: ExportPlan; target: IsolatedTarget; source?: DumpSource }> {
  const { store } = ports;
  const state = await store.get<RestoreState>(req.restore, 'state.json');
  if (!state)
    throw new InputError([
      `restore ${req.restore}: not found in s3://${deps.policy.vault.bucket}/restores/; see kura restore list`,
    ]);
  if (state.cleanup)
    throw new InputError([`restore ${req.restore} was cleaned up: nothing of it is left to export`]);
  const records = await readRecords(req.restore, store);
  const target = await ports.connect(deps);
  let database: Awaited<ReturnType<typeof planDatabase>> | undefined;
  if (req.database) {
    const rec = doneItem(records, 'database', req.database.instance, req.restore);
    database = await planDatabase(deps, req.database, rec, target, ports, req.restore);
  }
  const content: ContentExportPlan[] = [];
  try {
    for (const c of req.content)
      content.push(await planContent(c, doneItem(records, 'content', c.source, req.restore), target, ports));
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
