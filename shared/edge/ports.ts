// Edge: the one place that builds the AWS adapters behind the use cases'
// ports, from a run's Deps. The Lambda handlers (functions/*), the CLI
// (cli/support/context.ts) and the local runner compose through here; use
// cases receive what is built here and construct no adapter themselves.
import { type ContentPort, S3ContentAdapter } from '../aws/content.ts';
import { ensureIsolatedBucket } from '../aws/isolated-storage.ts';
import { vaultLock } from '../aws/vault-lock.ts';
import { awsLeftovers } from '../aws/isolated-leftovers.ts';
import { awsDatabaseRestorePorts, awsTargetInfra } from '../aws/restore-ports.ts';
import { unshareAfterRun } from '../restore/database.ts';
import { connectIsolated, prepareIsolatedTarget } from '../restore/isolated-network.ts';
import { restoreStep } from './restore-steps.ts';
import { planKey, type ValidationPlan } from '../usecases/validation/records.ts';
import { ManagedSecretAccess } from '../aws/db-access.ts';
import type { Deps } from '../aws/deps.ts';
import { invokeInIsolated } from '../aws/probe-invoke.ts';
import { originLatestRestorableTime } from '../aws/rds-pitr.ts';
import { describeDbCluster, describeDbInstance } from '../aws/rds-restore.ts';
import { describeInstances, listIsolatedKeys, readFromIsolated } from '../aws/isolated-account.ts';
import { tagValidated } from '../aws/validated-tags.ts';
import { VaultStore } from '../aws/vault-objects.ts';
import { sealedRecords } from '../aws/seals.ts';
import { S3RestoreStore } from '../aws/restore-store.ts';
import { jobProgress, jobShards, jobTotals, type ShardProgress } from '../restore/content-shard-job.ts';
import { readManifest, vaultContent } from '../aws/content-generations.ts';
import { type ContentShardPorts, verifyJob } from '../usecases/content-restore-shards.ts';
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
    contentVerified: async (runId, source, generation) => {
      const job = verifyJob(runId, source, generation);
      const shards = await jobShards(vaultContent(new S3ContentAdapter(deps.clients), deps.policy), job);
      const records = new S3RestoreStore(deps.clients, deps.policy.vault.bucket);
      const done = (await jobProgress(records, job, shards)).shards.filter((p) => p?.done) as ShardProgress[];
      const t = jobTotals(done);
      return {
        shards: shards.length,
        done: done.length,
        objects: t.objects,
        failureCount: t.failureCount,
        failures: t.failures,
      };
    },
    describeInstances,
    describeDatabase: (target, id) => describeDbInstance(target.clients, id, target.region),
    describeCluster: (target, id) => describeDbCluster(target.clients, id, target.region),
    ...overrides,
  };
}

export function validationPorts(deps: Deps, overrides: CheckPorts = {}): ValidationPorts {
  const vault = new VaultStore(deps.clients, deps.policy);
  return {
    vault,
    sealed: sealedRecords(vault),
    markValidated: (rp, at) => tagValidated(deps.clients, rp, at),
    latestRestorableTime: (rp, origin) =>
      originLatestRestorableTime(deps.clients, deps.policy, rp.source, origin, rp.region),
    checks: checkAdapters(deps, overrides),
    step: restoreStep,
    prepareTarget: (d) => prepareIsolatedTarget(d, awsTargetInfra),
    leftovers: awsLeftovers,
    unshare: (account, resources) =>
      unshareAfterRun(awsDatabaseRestorePorts.snapshots(deps.clients), account, resources),
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
