// Use case (`kura restore export`): the writes. A database's dump is streamed,
// gzipped and hashed into the vault; content is copied from the isolated
// account with its role into the --to bucket with kura's own credentials,
// never overwriting an object already there.
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Deps } from '../../aws/deps.ts';
import type { ExportObjectsPort } from '../../aws/export-objects.ts';
import { stamp } from '../../policy/calendar.ts';
import { type DumpSource, dumpSql } from '../../restore/sql-dump.ts';
import type { IsolatedTarget } from '../../restore/types.ts';
import { isAwsError } from '../../runtime/aws-errors.ts';
import {
  type ContentExportPlan,
  type DatabaseExportPlan,
  EXPORTS_PREFIX,
  type ExportPlan,
  type ExportPorts,
} from './ports.ts';

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
  target: IsolatedTarget,
  c: ContentExportPlan,
  ports: ExportPorts,
): Promise<ExportResult['content'][number]> {
  const from = ports.isolated(target);
  const to = ports.own;
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
  ports: ExportPorts,
): Promise<ExportResult> {
  const { plan, target, source } = planned;
  const result: ExportResult = { requestId: plan.requestId, content: [] };
  if (plan.database && source)
    result.database = await exportDatabase(deps, plan, plan.database, source, now, ports.own);
  for (const c of plan.content) result.content.push(await exportContent(target, c, ports));
  return result;
}
