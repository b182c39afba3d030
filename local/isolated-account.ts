// Local runtime: what deploy/isolated-account.yml deploys in the isolated
// account and kura only looks up, played on the emulator: the `kura-access`
// role and instance profile (Session Manager on the restore's jump host and
// restored servers). On AWS the template creates it; moto, like AWS, refuses
// to launch an instance with a profile that does not exist.
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import type { Clients } from '../shared/aws/clients.ts';
import type { Deps } from '../shared/aws/deps.ts';
import { tolerate } from '../shared/aws/errors.ts';
import { ACCESS_PROFILE } from '../shared/restore/access.ts';
import { connectIsolated } from '../shared/restore/isolated-network.ts';
import { controlEndpoint, operatorClients } from './iam/principals.ts';

/** The kura-access role and instance profile, made by the isolated account's administrator (`admin`). */
export async function ensureAccessProfile(admin: Clients): Promise<void> {
  const iam = admin.get(IAMClient);
  const exists = await tolerate(
    ['notFound'],
    async () =>
      Boolean(await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: ACCESS_PROFILE }))),
    false,
  );
  if (exists) return;
  await tolerate(['alreadyExists'], () =>
    iam.send(
      new CreateRoleCommand({
        RoleName: ACCESS_PROFILE,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    ),
  );
  await tolerate(['alreadyExists'], () =>
    iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: ACCESS_PROFILE })),
  );
  await iam.send(
    new AddRoleToInstanceProfileCommand({ InstanceProfileName: ACCESS_PROFILE, RoleName: ACCESS_PROFILE }),
  );
}

/**
 * The policy's isolated account as its stack leaves it. Behind the IAM front
 * layer its administrator makes it (kura-restore trusts only kura's function
 * roles, not the operator); on a bare emulator, through the isolated role.
 */
export async function provisionIsolatedAccount(deps: Deps): Promise<void> {
  const iso = deps.policy.isolatedAccount;
  if (!iso) return;
  const region = iso.region ?? deps.policy.region;
  // The operator's own credentials for it when given (the CLI's --isolated-profile).
  const admin =
    deps.isolated ??
    (controlEndpoint()
      ? await operatorClients(iso.accountId, deps.clients, region)
      : (await connectIsolated(deps)).clients);
  await ensureAccessProfile(admin);
}
