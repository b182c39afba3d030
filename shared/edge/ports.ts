// Edge: the one place that builds the AWS adapters behind the use cases'
// ports, from a run's Deps. The Lambda handlers (functions/*), the CLI
// (cli/support/context.ts) and the local runner compose through here; use
// cases receive what is built here and construct no adapter themselves.
import { type ContentPort, S3ContentAdapter } from '../aws/content.ts';
import { ensureIsolatedBucket } from '../aws/isolated-storage.ts';
import { vaultLock } from '../aws/vault-lock.ts';
import { awsLeftovers } from '../aws/isolated-leftovers.ts';
import { awsTargetInfra } from '../aws/restore-ports.ts';
import { connectIsolated, prepareIsolatedTarget } from '../restore/isolated-network.ts';
import { restoreListing } from './restore-listings.ts';
import { planKey, type ValidationPlan } from '../usecases/validation/records.ts';
import type { Deps } from '../aws/deps.ts';
import { originLatestRestorableTime } from '../aws/rds-pitr.ts';
import { tagValidated } from '../aws/validated-tags.ts';
import { VaultStore } from '../aws/vault-objects.ts';
import { sealedRecords } from '../aws/seals.ts';
import { S3RestoreStore } from '../aws/restore-store.ts';
import { vaultContent } from '../aws/content-generations.ts';
import type { ContentShardPorts } from '../usecases/content-restore-shards.ts';
import type { ValidationPlanPorts, ValidationReportPorts } from '../usecases/validation/records.ts';

/**
 * The validation plan's ports (functions/validation-step): every class's
 * listing (not its restore), the PITR read in each source, the whole isolated
 * target made ready once before the items fan out. Each class's item states
 * build theirs in shared/edge/validation-item-ports.ts.
 */
export function validationPlanPorts(deps: Deps): ValidationPlanPorts {
  const vault = new VaultStore(deps.clients, deps.policy);
  return {
    vault,
    sealed: sealedRecords(vault),
    latestRestorableTime: (rp, origin) =>
      originLatestRestorableTime(deps.clients, deps.policy, rp.source, origin, rp.region),
    listing: restoreListing,
    prepareTarget: (d) => prepareIsolatedTarget(d, awsTargetInfra),
  };
}

/** The validation report's ports (functions/validation-report): the records, the tags, the leftovers. */
export function validationReportPorts(deps: Deps): ValidationReportPorts {
  const vault = new VaultStore(deps.clients, deps.policy);
  return {
    vault,
    sealed: sealedRecords(vault),
    markValidated: (rp, at) => tagValidated(deps.clients, rp, at),
    leftovers: awsLeftovers,
  };
}

/** The content-restore-shard function's ports (its use case builds none). */
export function contentShardPorts(deps: Deps): ContentShardPorts {
  let isolated: Promise<{ bucket: string; port: ContentPort }> | undefined;
  return {
    policy: deps.policy,
    vault: vaultContent(new S3ContentAdapter(deps.clients), deps.policy),
    records: new S3RestoreStore(deps.clients, deps.policy.vault.bucket, vaultLock(deps.policy)),
    isolated: () => {
      isolated ??= (async () => {
        const t = await connectIsolated(deps);
        const bucket = await ensureIsolatedBucket(t.clients, t.accountId, t.region);
        return { bucket, port: new S3ContentAdapter(t.clients, t.region) };
      })();
      return isolated;
    },
    validationPlan: (runId) =>
      new VaultStore(deps.clients, deps.policy).get<ValidationPlan>(planKey(deps.policy, runId)),
  };
}
