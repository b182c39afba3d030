// Validation check (database): the restored instance is available, with the
// engine and storage of the backup, not publicly accessible, encrypted, in the
// isolated subnet group; then the policy's SQL probes, run by the probe runner
// inside the isolated network (shared/validation/probe-runner.ts).
import type { CheckResult } from '../../domain/validation-report.ts';
import type { RestoredItem } from '../../restore/types.ts';
import type { CheckContext, CheckOutcome, DatabaseCheckAdapters } from './types.ts';

export async function checkDatabase(
  ctx: CheckContext<DatabaseCheckAdapters>,
  item: RestoredItem,
): Promise<CheckOutcome> {
  const id = item.resources.find((r) => r.type === 'AWS::RDS::DBInstance')?.id;
  if (!id)
    return { checks: [{ name: 'instance', status: 'fail', detail: 'the restore reported no DB instance' }] };
  const inst = await ctx.ports.describeDatabase(ctx.target, id);
  if (!inst)
    return {
      checks: [{ name: 'instance', status: 'fail', detail: `${id} does not exist in the isolated account` }],
    };
  const details = item.recoveryPoint.details ?? {};
  const checks: CheckResult[] = [];
  const add = (name: string, ok: boolean, detail: string, value?: CheckResult['value']) =>
    checks.push({ name, status: ok ? 'pass' : 'fail', detail, value });

  add(
    'available',
    inst.DBInstanceStatus === 'available',
    `status ${inst.DBInstanceStatus}`,
    inst.DBInstanceStatus ?? null,
  );
  const engine = details.engine as string | undefined;
  add(
    'engine',
    !engine || inst.Engine === engine,
    `engine ${inst.Engine}${engine ? ` (backup: ${engine})` : ''}`,
    inst.Engine ?? null,
  );
  const clusterId = item.resources.find((r) => r.type === 'AWS::RDS::DBCluster')?.id;
  if (clusterId) {
    // Aurora: the cluster is what was restored; the instance is its writer. Storage is not
    // allocated (the cluster volume grows with the data), so it is not compared.
    const cluster = await ctx.ports.describeCluster(ctx.target, clusterId);
    if (!cluster) {
      add('cluster', false, `${clusterId} does not exist in the isolated account`);
      return { checks };
    }
    add(
      'cluster available',
      cluster.Status === 'available',
      `cluster status ${cluster.Status}`,
      cluster.Status ?? null,
    );
    add(
      'cluster engine',
      !engine || cluster.Engine === engine,
      `cluster engine ${cluster.Engine}${engine ? ` (backup: ${engine})` : ''}`,
      cluster.Engine ?? null,
    );
    const member = cluster.DBClusterMembers?.find((m) => m.DBInstanceIdentifier === id);
    add(
      'writer',
      member?.IsClusterWriter === true && inst.DBClusterIdentifier === clusterId,
      member
        ? `${id} is ${member.IsClusterWriter ? 'the writer' : 'a reader'} of ${clusterId}`
        : `${id} is not a member of ${clusterId}`,
    );
    add(
      'not public',
      inst.PubliclyAccessible !== true,
      inst.PubliclyAccessible ? `writer ${id} is publicly accessible` : 'not publicly accessible',
    );
    checks.push({
      name: 'storage',
      status: 'skip',
      detail: 'Aurora cluster volume: no allocated storage to compare (it grows with the data)',
    });
    add(
      'encrypted',
      cluster.StorageEncrypted === true,
      cluster.StorageEncrypted
        ? `cluster encrypted with ${cluster.KmsKeyId}`
        : 'cluster storage not encrypted',
    );
    const group = ctx.target.network?.dbSubnetGroup;
    if (group)
      add(
        'isolated subnet group',
        cluster.DBSubnetGroup === group,
        `subnet group ${cluster.DBSubnetGroup ?? '(none)'}`,
      );
  } else {
    const storage = details.allocatedStorage as number | undefined;
    add(
      'storage',
      storage === undefined || (inst.AllocatedStorage ?? 0) >= storage,
      `${inst.AllocatedStorage} GiB allocated${storage !== undefined ? ` (backup: ${storage} GiB)` : ''}`,
      inst.AllocatedStorage ?? null,
    );
    add(
      'not public',
      inst.PubliclyAccessible !== true,
      inst.PubliclyAccessible ? 'publicly accessible' : 'not publicly accessible',
    );
    add(
      'encrypted',
      inst.StorageEncrypted === true,
      inst.StorageEncrypted ? `encrypted with ${inst.KmsKeyId}` : 'storage not encrypted',
    );
    const group = ctx.target.network?.dbSubnetGroup;
    if (group) {
      const actual = inst.DBSubnetGroup?.DBSubnetGroupName;
      add('isolated subnet group', actual === group, `subnet group ${actual ?? '(none)'}`);
    }
  }

  const probes = ctx.deps.policy.validation?.sqlProbes ?? [];
  if (probes.length === 0 || inst.DBInstanceStatus !== 'available') {
    if (probes.length === 0)
      checks.push({ name: 'sql probes', status: 'skip', detail: 'no sqlProbes in policy.validation' });
    return { checks };
  }
  try {
    // The runner inside the isolated network connects; this function only says where and which secret.
    const where = await ctx.ports.dbAccess.connection(ctx.target, inst);
    const probed = await ctx.ports.probeRunner.run(ctx.target, {
      engine: where.engine,
      host: where.host,
      port: where.port,
      database: where.database,
      secretArn: where.secretArn,
      probes,
      recoveryPointTime: new Date(item.recoveryPoint.time).toISOString(),
    });
    return { checks: [...checks, ...probed.checks], achievedRpoMinutes: probed.achievedRpoMinutes };
  } catch (err) {
    const e = err as Error & { code?: string };
    checks.push({
      name: 'sql probes',
      status: 'fail',
      detail: `cannot probe ${item.endpoint ?? id}: ${e.code ?? e.name}: ${e.message}`,
    });
    return { checks };
  }
}
