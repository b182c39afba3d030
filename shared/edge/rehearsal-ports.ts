// Edge: the yearly rehearsal's ports (functions/validation-step) bound to AWS: the
// vault's rehearsal records, and the cleanup of one orchestrated restore as
// `kura restore cleanup` runs it.
import type { Deps } from '../aws/deps.ts';
import { sealedRecords } from '../aws/seals.ts';
import { VaultStore } from '../aws/vault-objects.ts';
import type { RehearsalPorts } from '../usecases/validation/rehearsal.ts';
import { awsCleanupPorts } from './restore-ports.ts';

export function rehearsalPorts(deps: Deps): RehearsalPorts {
  const vault = new VaultStore(deps.clients, deps.policy);
  return {
    vault,
    sealed: sealedRecords(vault),
    cleanup: awsCleanupPorts(deps),
  };
}
