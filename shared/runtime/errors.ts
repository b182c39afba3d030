// Runtime: named errors. State machines match these names in Retry/Catch, and
// the CLI prints their messages without a stack trace.

export class KuraError extends Error {
  override name = 'KuraError';
}

/** The policy file is missing or wrong; `problems` lists every problem found. */
export class PolicyError extends KuraError {
  override name = 'PolicyError';
  constructor(readonly problems: string[]) {
    super(`invalid policy:\n  - ${problems.join('\n  - ')}`);
  }
}

/** A request or event failed validation before anything was touched. */
export class InputError extends KuraError {
  override name = 'InputError';
  constructor(readonly problems: string[]) {
    super(`invalid input:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Some targets of a run failed; every target was still tried. */
export class PartialFailureError extends KuraError {
  override name = 'PartialFailureError';
  constructor(
    message: string,
    readonly result: unknown,
  ) {
    super(message);
  }
}

/** A prerequisite (emulator, tool, credentials) is missing. */
export class PrerequisiteError extends KuraError {
  override name = 'PrerequisiteError';
}

/**
 * Work that must wait (an image or snapshot not yet available, logs being
 * restored from an archive class). `waitSeconds` is how long to wait before
 * looking again; `readyBy` when the data is expected to be ready (ISO).
 */
export class NotReadyError extends KuraError {
  override name = 'NotReadyError';
  constructor(
    message: string,
    readonly hint: { waitSeconds?: number; readyBy?: string } = {},
  ) {
    super(message);
  }
}

/**
 * A recovery point that stayed in progress past the policy's limit
 * (stuckAfterHours), found so by a second scheduled run: the first run warned.
 */
export class RecoveryPointStuckError extends KuraError {
  override name = 'RecoveryPointStuckError';
}

/** A recovery point AWS reports as failed, still there at a second scheduled run. */
export class RecoveryPointFailedError extends KuraError {
  override name = 'RecoveryPointFailedError';
}
