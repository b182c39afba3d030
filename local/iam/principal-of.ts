// Local runtime (IAM front layer): a role of the templates as the evaluator's principal.
import type { RoleModel } from './deployment.ts';
import type { Principal } from './evaluate.ts';

export function rolePrincipal(role: RoleModel, session: string): Principal {
  return {
    arn: role.arn,
    account: role.account,
    sessionArn: `${role.arn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${session}`,
    label:
      role.logicalId === 'RestoreRole' && role.source === 'isolated-template'
        ? 'kura-restore (isolated)'
        : role.logicalId,
    policies: role.policies,
  };
}
