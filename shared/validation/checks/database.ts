// Validation check (database): the restored instance is available, with the
// engine and storage of the backup, not publicly accessible, encrypted, in the
// isolated subnet group; then the policy's SQL probes run against it.
import type { CheckResult } from '../../domain/validation-report.ts';
import { describeRestoredDatabase } from '../../restore/database.ts';
import type { RestoredItem } from '../../restore/types.ts';
import { MasterPasswordAccess, MysqlProbe, runProbes, type SqlProbePort } from './sql-probe.ts';
import type { CheckContext, CheckOutcome } from './types.ts';

export async function checkDatabase(ctx: CheckContext, item: RestoredItem): Promise<CheckOutcome> {
  const id = item.resources.find((r) => r.type === 'AWS::RDS::DBInstance')?.id;
  if (!id)
    return { checks: [{ name: 'instance', status: 'fail', detail: 'the restore reported no DB instance' }] };
  const inst = await describeRestoredDatabase(ctx.target.clients, ctx.target.region, id);
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

  const probes = ctx.deps.policy.validation?.sqlProbes ?? [];
  if (probes.length === 0 || inst.DBInstanceStatus !== 'available') {
    if (probes.length === 0)
      checks.push({ name: 'sql probes', status: 'skip', detail: 'no sqlProbes in policy.validation' });
    return { checks };
  }
  const access = ctx.ports.dbAccess ?? new MasterPasswordAccess();
  const port: SqlProbePort = ctx.ports.sqlProbe ?? new MysqlProbe();
  try {
    const conn = await access.connection(ctx.target, inst);
    const probed = await runProbes(port, conn, probes, new Date(item.recoveryPoint.time));
    return { checks: [...checks, ...probed.checks], achievedRpoMinutes: probed.achievedRpoMinutes };
  } catch (err) {
    const e = err as Error & { code?: string };
    checks.push({
      name: 'sql probes',
      status: 'fail',
      detail: `cannot connect to ${item.endpoint ?? id}: ${e.code ?? e.name}: ${e.message}`,
    });
    return { checks };
  } finally {
    await port.close?.();
  }
}
