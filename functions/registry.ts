// The functions kura deploys, by their contract names, loaded lazily so that
// `kura invoke` pulls in only the one it runs. The local state machine runner
// routes Lambda tasks here too.
import type { Deps } from '../shared/runtime/lambda.ts';

export type PlainHandler = (event: unknown, deps: Deps) => Promise<unknown>;

export const FUNCTIONS: Record<string, () => Promise<PlainHandler>> = {
  'rds-snapshot': async () => (await import('./rds-snapshot/handler.ts')).run as PlainHandler,
};

export function functionNames(): string[] {
  return Object.keys(FUNCTIONS).sort();
}
