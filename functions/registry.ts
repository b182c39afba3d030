// The functions kura deploys, by their contract names, loaded lazily so that
// `kura invoke` pulls in only the one it runs. The local state machine runner
// routes Lambda tasks here too.
import type { Deps } from '../shared/aws/deps.ts';

export type PlainHandler = (event: unknown, deps: Deps) => Promise<unknown>;

export const FUNCTIONS: Record<string, () => Promise<PlainHandler>> = {
  'rds-snapshot': async () => (await import('./rds-snapshot/handler.ts')).run as PlainHandler,
  'ami-backup': async () => (await import('./ami-backup/handler.ts')).run as PlainHandler,
  'validation-step': async () => (await import('./validation-step/handler.ts')).run as PlainHandler,
  'validation-report': async () => (await import('./validation-report/handler.ts')).run as PlainHandler,
  'validation-database': async () => (await import('./validation-database/handler.ts')).run as PlainHandler,
  'validation-image': async () => (await import('./validation-image/handler.ts')).run as PlainHandler,
  'validation-content': async () => (await import('./validation-content/handler.ts')).run as PlainHandler,
  'validation-logs': async () => (await import('./validation-logs/handler.ts')).run as PlainHandler,
  restore: async () => (await import('./restore/handler.ts')).run as PlainHandler,
  'restore-database': async () => (await import('./restore-database/handler.ts')).run as PlainHandler,
  'restore-image': async () => (await import('./restore-image/handler.ts')).run as PlainHandler,
  'restore-content': async () => (await import('./restore-content/handler.ts')).run as PlainHandler,
  'restore-logs': async () => (await import('./restore-logs/handler.ts')).run as PlainHandler,
  'log-archive': async () => (await import('./log-archive/handler.ts')).run as PlainHandler,
  'log-bundle': async () => (await import('./log-bundle/handler.ts')).run as PlainHandler,
  'content-backup': async () => (await import('./content-backup/handler.ts')).run as PlainHandler,
  'content-restore-shard': async () =>
    (await import('./content-restore-shard/handler.ts')).run as PlainHandler,
};

export function functionNames(): string[] {
  return Object.keys(FUNCTIONS).sort();
}
