// Local runtime (IAM front layer): a role of the templates as the evaluator's principal.
import type { RoleModel } from './deployment.ts';
import type { Principal } from './evaluate.ts';

export function rolePrincipal(role: RoleModel, session: string): Principal {
  return {
    arn: role.arn,
    account: role.account,
    sessionArn: `${role.arn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${session}`,
    label: roleLabel(role),
    policies: role.policies,
  };
}

/** How reports and refusals name a role: its logical id, or which account's stack role it is. */
export function roleLabel(role: RoleModel): string {
  if (role.logicalId === 'RestoreRole' && role.source === 'isolated-template') return 'kura-restore (isolated)';
  if (role.source === 'source-template') return `kura-source (${role.account})`;
  return role.logicalId;
}
