// AWS adapter (validation): invokes a function in the isolated account with
// the isolated role's clients (kura-restore holds lambda:InvokeFunction on
// exactly the probe runner). Synchronous: the answer is the function's result;
// a function error is thrown with the function's own error type and message.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { IsolatedAccount } from './db-access.ts';

export async function invokeInIsolated(
  target: IsolatedAccount & { accountId: string },
  functionName: string,
  payload: unknown,
): Promise<unknown> {
  const arn = `arn:aws:lambda:${target.region}:${target.accountId}:function:${functionName}`;
  const out = await target.clients.get(LambdaClient, target.region).send(
    new InvokeCommand({
      FunctionName: arn,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }),
  );
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  if (out.FunctionError) {
    const e = JSON.parse(text || '{}') as { errorType?: string; errorMessage?: string };
    const err = new Error(`${arn} failed: ${e.errorType ?? out.FunctionError}: ${e.errorMessage ?? text}`);
    err.name = 'FunctionError';
    throw err;
  }
  return JSON.parse(text) as unknown;
}
