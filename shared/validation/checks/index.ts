// Validation checks, one per backup class, loaded lazily (the database check
// pulls in mysql2, the content check the manifest codec).
import type { RestoreClass } from '../../restore/types.ts';
import type { ClassCheck } from './types.ts';

export const CLASS_CHECKS: Record<RestoreClass, () => Promise<ClassCheck>> = {
  database: async () => (await import('./database.ts')).checkDatabase,
  image: async () => (await import('./image.ts')).checkImage,
  content: async () => (await import('./content.ts')).checkContent,
  logs: async () => (await import('./logs.ts')).checkLogs,
};
