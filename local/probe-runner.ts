// Local runtime: the isolated account's probe runner (deploy/isolated-account.yml,
// functions/probe-runner) played as Lambda would run it. The emulator cannot
// run a function in a VPC, so the IAM front layer, after authorizing the
// cross-account lambda:InvokeFunction like any request, calls the same
// handler in-process with the runner role's credentials (its secret read is
// authorized like any request too) and answers the Invoke in Lambda's shape:
// the handler's result, or `X-Amz-Function-Error: Unhandled` with the error.
import { Clients } from '../shared/aws/clients.ts';
import { type StandInDatabase, standInProbe } from './stand-in-databases.ts';

export interface ProbeRunnerInvocation {
  account: string;
  region: string;
  name: string;
  roleArn: string;
}

export async function invokeProbeRunner(
  opts: ProbeRunnerInvocation & {
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    payload: Buffer;
    databases: StandInDatabase[];
  },
): Promise<{ payload: string; functionError?: string }> {
  const { run } = await import('../functions/probe-runner/handler.ts');
  const clients = new Clients({
    region: opts.region,
    endpoint: opts.endpoint,
    credentials: opts.credentials,
    label: `${opts.name}@${opts.account}`,
  });
  try {
    const event = JSON.parse(opts.payload.toString('utf8') || '{}') as unknown;
    const out = await run(event, { clients }, { sql: standInProbe(opts.databases) });
    return { payload: JSON.stringify(out) };
  } catch (err) {
    const e = err as Error;
    return {
      payload: JSON.stringify({ errorType: e.name, errorMessage: e.message }),
      functionError: 'Unhandled',
    };
  }
}
