// Edge: what the task functions' event schemas share (zod/mini): the error a
// state machine's Catch passes on, and the InputError that names each wrong field.
import * as z from 'zod/mini';
import { InputError } from '../runtime/errors.ts';

/** The error a state machine's Catch passes on (null when there is none). */
export const stateFailure = z.nullable(
  z.optional(z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
);

/** `event` parsed, or an InputError naming each field that is wrong, then what was `expected`. */
export function parseEvent<T>(schema: z.ZodMiniType<T>, event: unknown, expected: string): T {
  const parsed = schema.safeParse(event);
  if (!parsed.success)
    throw new InputError(
      parsed.error.issues.map(
        (i) => `event.${i.path.map(String).join('.') || '(root)'}: ${i.message}${expected}`,
      ),
    );
  return parsed.data;
}
