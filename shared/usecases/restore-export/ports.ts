// Use case (`kura restore export`): the plan's shape and the ports the export
// receives (shared/edge/restore-ports.ts binds them to AWS; tests pass stand-ins).
import type { Deps } from '../../aws/deps.ts';
import type { ExportObjectsPort } from '../../aws/export-objects.ts';
import type { RestoreStorePort } from '../../aws/restore-store.ts';
import type { DumpSource } from '../../restore/sql-dump.ts';
import type { IsolatedTarget } from '../../restore/types.ts';

export const EXPORTS_PREFIX = 'exports/';

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
  openDatabase(conn: { host?: string; port: number; user: string; password: string }): Promise<DumpSource>;
  /** Objects with kura's own credentials: the vault (each write states its Object Lock) and the --to bucket. */
  own: ExportObjectsPort;
  /** Objects and secrets in the isolated account, through its role. */
  isolated(target: IsolatedTarget): ExportObjectsPort;
  /** The restores' records in the vault. */
  store: RestoreStorePort;
  /** The isolated account, through the policy's restore role. */
  connect(deps: Deps): Promise<IsolatedTarget>;
}
