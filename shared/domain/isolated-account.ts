// Domain: the names kura gives what it keeps and makes in the isolated
// account, which the adapters (shared/aws/isolated-*.ts), the restore steps,
// the leftover checks and deploy/isolated-account.yml must agree on.

/** Tag that marks the long-lived isolated infrastructure (never a run's leftover). */
export const ROLE_TAG = 'kura:role';
/** Tag on everything one run creates in the isolated account (leftover checks filter on it). */
export const RUN_TAG = 'kura:run';
export const NETWORK_ROLE = 'isolated-network';
export const NETWORK_NAME = 'kura-isolated';
export const ISOLATED_KEY_ALIAS = 'alias/kura-isolated-restore';

/** The instance profile deploy/isolated-account.yml creates for the jump host and restored servers. */
export const ACCESS_PROFILE = 'kura-access';
export const PURPOSE_TAG = 'kura:purpose';
/** The interface endpoints Session Manager needs in a VPC with no way out. */
export const ACCESS_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'];
/** Amazon Linux 2023 (Session Manager agent preinstalled), arm64 for the smallest instance. */
export const JUMP_IMAGE_NAME = 'al2023-ami-2023.*-kernel-6.1-arm64';
