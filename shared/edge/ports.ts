// Edge: the one place that builds the AWS adapters behind the use cases'
// ports, from a run's Deps. The Lambda handlers (functions/*), the CLI
// (cli/support/context.ts) and the local runner compose through here; use
// cases receive what is built here and construct no adapter themselves.
import { S3ContentAdapter } from '../aws/content.ts';
import { ManagedSecretAccess } from '../aws/db-access.ts';
import type { Deps } from '../aws/deps.ts';
import { invokeInIsolated } from '../aws/probe-invoke.ts';
import { latestRestorableTime } from '../aws/rds-pitr.ts';
import { describeDbCluster, describeDbInstance } from '../aws/rds-restore.ts';
import { describeInstances, listIsolatedKeys, readFromIsolated } from '../aws/isolated-account.ts';
import { tagValidated } from '../aws/validated-tags.ts';
import { VaultStore } from '../aws/vault-objects.ts';
import { readManifest } from '../usecases/content-backup.ts';
import type { ValidationPorts } from '../usecases/validation.ts';
import type { CheckAdapters, CheckPorts } from '../validation/checks/types.ts';
import type { ProbeResponse } from '../validation/probe-runner.ts';

/** The validation checks' adapters; `overrides` replaces some (tests: a stand-in database, an injected fault). */
export function checkAdapters(deps: Deps, overrides: CheckPorts = {}): CheckAdapters {
  return {
    probeRunner: {
      run: async (target, request) =>
        (await invokeInIsolated(
          target,
          deps.policy.isolatedAccount?.probeRunner ?? 'kura-probe-runner',
          request,
        )) as ProbeResponse,
    },
    dbAccess: new ManagedSecretAccess(),
    readObject: readFromIsolated,
    listKeys: listIsolatedKeys,
    contentManifest: (source, generation) =>
      readManifest(new S3ContentAdapter(deps.clients), deps.policy, source, generation),
    describeInstances,
    describeDatabase: (target, id) => describeDbInstance(target.clients, id, target.region),
    describeCluster: (target, id) => describeDbCluster(target.clients, id, target.region),
    ...overrides,
  };
}

export function validationPorts(deps: Deps, overrides: CheckPorts = {}): ValidationPorts {
  return {
    vault: new VaultStore(deps.clients, deps.policy),
    markValidated: (rp, at) => tagValidated(deps.clients, rp, at),
    latestRestorableTime: (rp) => latestRestorableTime(deps.clients, rp.source, rp.region),
    checks: checkAdapters(deps, overrides),
  };
}
