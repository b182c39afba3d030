// Edge: the restore state machine's "item" task for one class's function
// (functions/restore-<class>): validates the event and runs the use case over
// that class's ports (shared/edge/restore-ports.ts). One function per class, so
// that each bundle carries its own class's clients only (issue 18).
import * as z from 'zod/mini';
import type { Deps } from '../aws/deps.ts';
import { InputError } from '../runtime/errors.ts';
import type { RestoreItemPorts } from '../usecases/restore/ports.ts';
import { restoreItem } from '../usecases/restore/restore-item.ts';

const itemEvent = z.looseObject({ step: z.literal('item'), requestId: z.string(), key: z.string() });

/** The plain function of one class's item task (tests, the local runner and `kura invoke` call it). */
export function restoreItemTask(
  ports: (deps: Deps) => RestoreItemPorts,
): (event: unknown, deps: Deps) => Promise<unknown> {
  return async (event, deps) => {
    const parsed = itemEvent.safeParse(event);
    if (!parsed.success)
      throw new InputError(
        parsed.error.issues.map(
          (i) => `event.${i.path.map(String).join('.') || 'step'}: ${i.message}; expected step item`,
        ),
      );
    // Progress is timed on the clock restores wait on (real on AWS, simulated in local runs).
    const now = () => new Date(deps.clients.timer.now());
    return restoreItem(parsed.data, deps, now, ports(deps));
  };
}
