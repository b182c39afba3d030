// AWS adapter (validation): invokes the probe runner in the isolated account
// with the isolated role's clients (kura-restore holds lambda:InvokeFunction on
// exactly that function). Synchronous: the checks come back in the response.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { ProbeRequest, ProbeResponse } from '../validation/probe-runner.ts';
import type { IsolatedAccount } from './db-access.ts';

export interface ProbeRunnerPort {
  run(target: IsolatedAccount & { accountId: string }, request: ProbeRequest): Promise<ProbeResponse>;
}

export class LambdaProbeRunner implements ProbeRunnerPort {
  constructor(private readonly functionName: string) {}

  async run(target: IsolatedAccount & { accountId: string }, request: ProbeRequest): Promise<ProbeResponse> {
    const arn = `arn:aws:lambda:${target.region}:${target.accountId}:function:${this.functionName}`;
    const out = await target.clients.get(LambdaClient, target.region).send(
      new InvokeCommand({
        FunctionName: arn,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(request)),
      }),
    );
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) {
      const e = JSON.parse(text || '{}') as { errorType?: string; errorMessage?: string };
      const err = new Error(
        `the probe runner ${arn} failed: ${e.errorType ?? out.FunctionError}: ${e.errorMessage ?? text}`,
      );
      err.name = 'ProbeRunnerError';
      throw err;
    }
    return JSON.parse(text) as ProbeResponse;
  }
}
