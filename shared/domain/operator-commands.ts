// Domain (what people read): the commands and names kura prints for the
// on-call engineer, in a restore's result and report, the runbook and the
// CLI's errors, kept in one place because they must agree. Pure text: the
// restore steps gather the facts (hosts, ports, secrets) and call these.
// The port forward's local end is named by its port alone: it is on the
// operator's own machine (the client's default host), and kura itself never
// connects to it.

/** The local port the documented port-forwarding command uses. */
export const LOCAL_PORT = 13306;
/** `--via` for the forwarded database: its port alone means on the operator's own machine. */
export const PORT_FORWARD_VIA = String(LOCAL_PORT);
/** How the commands name the isolated account's credentials: an AWS CLI profile (docs/restore.md). */
export const ISOLATED_PROFILE = 'kura-isolated';

/** How an operator without the isolated account's credentials is told to enter it. */
export const ISOLATED_PROFILE_HINT = `kura's functions assume the restore role; an operator enters the isolated account with its own administrator credentials: --isolated-profile <profile> (the runbook's ${ISOLATED_PROFILE}) or KURA_ISOLATED_PROFILE`;

/** The region and credentials every printed AWS CLI command of a restore carries. */
export const cliScope = (region: string, profile: string): string =>
  `--region ${region} --profile ${profile}`;

/** Reads a restored database's master password from its secret (never printed by kura itself). */
export const secretReadCommand = (secretArn: string, scope: string): string =>
  `aws secretsmanager get-secret-value --secret-id '${secretArn}' --query SecretString --output text ${scope}`;

/** Copies a table of a restored database out through the port forward. */
export const databaseExportCommand = (requestId: string, source: string): string =>
  `npx kura restore export ${requestId} --database ${source} --via ${PORT_FORWARD_VIA} --table <table> --yes`;

/** Copies restored content out of the isolated account. */
export const contentExportCommand = (requestId: string, source: string): string =>
  `npx kura restore export ${requestId} --content ${source} --to s3://<bucket>/<prefix>/ --yes`;

/** The Session Manager port forward through the jump host, then the client on the local end. */
export function portForwardCommands(a: {
  jumpHost: string;
  endpoint: string | undefined;
  port: number;
  user: string;
  secretRead: string;
  scope: string;
}): string[] {
  const params = JSON.stringify({
    host: [a.endpoint],
    portNumber: [String(a.port)],
    localPortNumber: [String(LOCAL_PORT)],
  });
  return [
    `aws ssm start-session --target ${a.jumpHost} --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters '${params}' ${a.scope}`,
    // TCP to the client's default host: without it, mysql takes "localhost" for its Unix socket.
    `mysql --protocol=TCP -P ${LOCAL_PORT} -u ${a.user} -p   # the password: ${a.secretRead}`,
  ];
}

/** A shell on a restored server, and its console output (for any image). */
export const serverCommands = (instance: string, scope: string): string[] => [
  `aws ssm start-session --target ${instance} ${scope}`,
  `aws ec2 get-console-output --instance-id ${instance} --latest --output text ${scope}`,
];

/** Restored objects in the isolated account's restore bucket. */
export const objectListCommands = (where: string, scope: string): string[] => [
  `aws s3 ls ${where} --recursive ${scope}`,
];

/** What the engineer is told next to each route. */
export const ACCESS_NOTES = {
  portForward:
    'the endpoints and the jump host need a few minutes after the restore before Session Manager answers',
  server:
    'a shell needs the Session Manager agent in the image (Amazon Linux and most AWS images have it); the console output works for any image',
  objects:
    'objects in the isolated account are read with its credentials; nothing there can reach production',
} as const;
