// Edge: the validation Map's item states (restore, check, cleanup) for one
// class's function (functions/validation-<class>): validates the event and
// runs the use case over that class's ports (shared/edge/validation-item-ports.ts).
// One function per class, so that each bundle carries its own class's clients
// only (issue 18); the restore machine's yearly rehearsal checks its items here too.
import * as z from 'zod/mini';
import type { Deps } from '../aws/deps.ts';
import { parseEvent, stateFailure } from './events.ts';
import { checkItem, cleanupItem, restoreItem, type StepOptions } from '../usecases/validation/items.ts';
import type { ValidationItemPorts } from '../usecases/validation/records.ts';
import type { CheckPorts } from '../validation/checks/types.ts';

const pointer = z.strictObject({
  runId: z.string(),
  index: z.int(),
  class: z.enum(['database', 'image', 'content', 'logs']),
  source: z.string(),
});
const itemEvent = z.strictObject({
  step: z.enum(['restore', 'check', 'cleanup']),
  input: z.looseObject({ item: pointer, error: stateFailure }),
});

export interface ItemRunOptions extends StepOptions {
  /** Check adapters to use instead of AWS's (tests: a stand-in database, an injected fault). */
  ports?: CheckPorts;
}

/** The plain function of one class's item states (tests, the local runner and `kura invoke` call it). */
export function validationItemTask<P>(
  ports: (deps: Deps, overrides: CheckPorts) => ValidationItemPorts<P>,
): (event: unknown, deps: Deps, opts?: ItemRunOptions) => Promise<unknown> {
  return async (event, deps, opts = {}) => {
    const e = parseEvent(itemEvent, event, '; expected step restore|check|cleanup with input.item');
    const p = ports(deps, opts.ports ?? {});
    switch (e.step) {
      case 'restore':
        return restoreItem(deps, p, e.input.item, opts);
      case 'check':
        return checkItem(deps, p, e.input.item);
      case 'cleanup':
        return cleanupItem(deps, p, e.input.item, e.input.error ?? undefined);
    }
  };
}
