// Use case: `kura restore export`. Brings chosen data back out of a restore:
//   - a database: a SQL dump of chosen tables, read from the restored copy
//     (through the Session Manager port forward the restore's result names,
//     with the fresh password RDS keeps for it in the isolated account's
//     Secrets Manager), written to the vault under exports/<restore id>/;
//   - content: the restored objects, read from the isolated account with its
//     role and written to a bucket and prefix the request names with kura's
//     own credentials, never overwriting an object already there.
// planExport only reads (and is what the confirmation shows); runExport writes.
export { planExport } from './restore-export/plan.ts';
export {
  type ContentExportPlan,
  type DatabaseExportPlan,
  EXPORTS_PREFIX,
  type ExportPlan,
  type ExportPorts,
} from './restore-export/ports.ts';
export { type ExportResult, runExport } from './restore-export/run.ts';
