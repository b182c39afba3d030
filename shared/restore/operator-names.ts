// Restore: the names the on-call commands give the person running them, kept
// in one place because results, errors and the runbook must agree: the local
// end of the documented Session Manager port forward (on the operator's own
// machine) and the AWS CLI profile of the isolated account's administrator.

/** The local port the documented port-forwarding command uses. */
export const LOCAL_PORT = 13306;
/** Where the forwarded database answers on the operator's machine. */
export const PORT_FORWARD_ADDRESS = `127.0.0.1:${LOCAL_PORT}`;
/** How the commands name the isolated account's credentials: an AWS CLI profile (docs/restore.md). */
export const ISOLATED_PROFILE = 'kura-isolated';
