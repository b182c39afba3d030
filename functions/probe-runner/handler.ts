// Lambda edge for `probe-runner`: deployed by deploy/isolated-account.yml in
// the isolated account's subnets (no way out), invoked by the validation
// function through the kura-restore role. Reads the restored copy's secret
// with its own role and runs the SQL probes; returns the checks. The
// password is never logged or returned.
import { Clients } from '../../shared/aws/clients.ts';
import { readDbSecret } from '../../shared/aws/db-secrets.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { logger } from '../../shared/runtime/logger.ts';
import { EngineProbe, type SqlProbePort } from '../../shared/validation/checks/sql-probe.ts';
import {
  type ProbeResponse,
  probeRequestSchema,
  runProbeRequest,
} from '../../shared/validation/probe-runner.ts';

/** The plain function: the local runtime calls it in-process (local/probe-runner.ts) as Lambda would. */
export async function run(
  event: unknown,
  deps: { clients: Clients },
  opts: { sql?: SqlProbePort } = {},
): Promise<ProbeResponse> {
  const parsed = probeRequestSchema.safeParse(event);
  if (!parsed.success)
    throw new InputError(
      parsed.error.issues.map((i) => `event.${i.path.map(String).join('.') || '(root)'}: ${i.message}`),
    );
  return runProbeRequest(parsed.data, {
    readSecret: (arn) => readDbSecret(deps.clients, arn),
    sql: opts.sql ?? new EngineProbe(),
  });
}

let clients: Clients | undefined;
export const handler = async (event: unknown): Promise<ProbeResponse> => {
  clients ??= new Clients();
  const out = await run(event, { clients });
  logger.info('probes finished', {
    checks: out.checks.map((c) => `${c.name}: ${c.status}`),
    achievedRpoMinutes: out.achievedRpoMinutes,
  });
  return out;
};
