// Validation checks, one per backup class. Imported statically: in a bundle a
// dynamic import() keeps every export of the module and of the SDK clients
// under it (no tree shaking), which cost validation-step ~300 KB of EC2
// schemas. The SQL drivers stay lazy where they are used (sql-probe.ts).
import type { RestoreClass } from '../../restore/types.ts';
import { checkContent } from './content.ts';
import { checkDatabase } from './database.ts';
import { checkImage } from './image.ts';
import { checkLogs } from './logs.ts';
import type { ClassCheck } from './types.ts';

export const CLASS_CHECKS: Record<RestoreClass, () => Promise<ClassCheck>> = {
  database: async () => checkDatabase,
  image: async () => checkImage,
  content: async () => checkContent,
  logs: async () => checkLogs,
};
