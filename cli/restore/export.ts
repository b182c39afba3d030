// `kura restore export <id> …`: brings chosen data back out of a restore.
//   --database <db> [--schema s] [--table t]… [--where "…"] --via 13306
//       a SQL dump (INSERT statements) to the vault under exports/<id>/
//   --content <source> --to s3://bucket/prefix/
//       the restored images back to a bucket, never overwriting what is there
// Validated before any AWS call, then read-only checks (the restore, the
// secret, the tables, the target bucket), then the confirmation, then writes.
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import { bothZones } from '../../shared/policy/calendar.ts';
import { awsExportPorts } from '../../shared/edge/restore-ports.ts';
import { parseExportRequest } from '../../shared/restore/export-request.ts';
import { planExport, runExport } from '../../shared/usecases/restore-export.ts';
import { commandDeps, commandPolicy, confirmChange, printJson, readJsonObject } from '../support/context.ts';

interface Flags {
  request?: string;
  reason?: string;
  database?: string;
  schema?: string;
  table: string[];
  where?: string;
  via?: string;
  content: string[];
  to: string[];
  json?: boolean;
  yes?: boolean;
}

const collect = (v: string, acc: string[]) => [...acc, v];

/** The export request from --request file.json, with flags layered on top. */
export function buildExportRequest(id: string | undefined, f: Flags): Record<string, unknown> {
  const req: Record<string, unknown> = f.request
    ? readJsonObject(
        f.request,
        '--request',
        '{"restore": "<id>", "content": [{"source": "app1-images", "to": "s3://bucket/prefix/"}]}',
      )
    : {};
  if (id) req.restore = id;
  if (f.reason) req.reason = f.reason;
  if (f.database)
    req.database = {
      instance: f.database,
      ...(f.schema ? { schema: f.schema } : {}),
      ...(f.table.length ? { tables: f.table } : {}),
      ...(f.where ? { where: f.where } : {}),
      ...(f.via ? { via: f.via } : {}),
    };
  if (f.content.length)
    req.content = [
      ...(Array.isArray(req.content) ? req.content : []),
      ...f.content.map((source, i) => ({ source, to: f.to[i] ?? f.to[0] })),
    ];
  return req;
}

export function registerRestoreExport(restore: Command): void {
  restore
    .command('export')
    .description(
      'bring chosen data back out of a restore: a database dump to the vault, or restored images to a bucket (never overwriting)',
    )
    .argument('[id]', 'restore id (kura restore list)')
    .option(
      '--request <file>',
      'the export as JSON: {"restore": "<id>", "database": {...}, "content": [...]}',
    )
    .option('--reason <text>', 'why (recorded with the dump)')
    .option('--database <id>', 'the restored database to dump')
    .option('--schema <name>', 'the schema (MySQL database) the tables are in; default: the instance DBName')
    .option('--table <name>', 'a table to dump (repeatable; default: every table of the schema)', collect, [])
    .option('--where <condition>', 'only rows matching this SQL condition, in every table dumped')
    .option('--via <[host:]port>', 'where the database answers from here: the Session Manager port forward (its port alone: on this machine)')
    .option(
      '--content <source>',
      'the restored content source to put back (repeatable, with --to)',
      collect,
      [],
    )
    .option(
      '--to <s3://bucket/prefix/>',
      'where the images go back (one per --content, or one for all)',
      collect,
      [],
    )
    .option('--json', 'print the result as JSON')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (id: string | undefined, f: Flags, cmd: Command) => {
      // Validated before the first AWS call.
      const request = parseExportRequest(buildExportRequest(id, f), commandPolicy(cmd));
      const deps = commandDeps(cmd);
      const tz = deps.policy.timezone;
      const ports = awsExportPorts(deps);
      const planned = await planExport(deps, request, ports);
      const { plan } = planned;
      const lines: string[] = [];
      const db = plan.database;
      if (db) {
        lines.push(
          `database ${db.instance}: dump ${db.tables.map((t) => `${db.schema}.${t.table} (${t.rows} row(s))`).join(', ')}${db.where ? ` where ${db.where}` : ''}, restored from ${db.recoveryPoint.id} (${bothZones(db.recoveryPoint.time, tz)}), read through ${db.via} as ${db.user}, to ${db.to}`,
        );
      }
      for (const c of plan.content)
        lines.push(
          `content ${c.source}: ${c.objects.length - c.existing.length} object(s) of ${c.objects.length} back to s3://${c.to.bucket}/${c.to.prefix}${c.existing.length ? ` (${c.existing.length} already there: kept, never overwritten)` : ''}`,
        );
      process.stderr.write(
        `export from restore ${plan.requestId} (${plan.reason}):\n${lines.map((l) => `  ${l}`).join('\n')}\n`,
      );
      try {
        await confirmChange(`export from restore ${plan.requestId}`, f.yes);
      } catch (err) {
        await planned.source?.close();
        throw err;
      }
      const result = await runExport(deps, planned, new Date(deps.clients.timer.now()), ports);
      if (f.json) return printJson(result);
      if (result.database) {
        const d = result.database;
        process.stdout.write(
          `${formatTable(d.tables.map((t) => ({ table: t.table, rows: t.rows })))}\n\ndump: ${d.location} (${d.bytes} bytes gzip, sha256 ${d.sha256})\nmanifest: ${d.manifest}\nget it: ${d.download}\n`,
        );
      }
      for (const c of result.content)
        process.stdout.write(
          `content ${c.source}: ${c.copied} object(s), ${c.bytes} bytes, put back to ${c.to}; ${c.skippedExisting.length} already there, kept${c.skippedExisting.length ? `: ${c.skippedExisting.slice(0, 5).join(', ')}${c.skippedExisting.length > 5 ? ' …' : ''}` : ''}\n`,
        );
    });
}
