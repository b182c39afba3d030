// Test support: a request the test expects the deployed policies to refuse.
// The refusal is declared to the IAM front layer, so that it does not fail
// the test as an unexpected one (test/setup.ts), and returned to assert on.
import { callControl } from '../../local/iam/principals.ts';

export async function expectRefused(act: () => Promise<unknown>): Promise<Error> {
  const { seq } = await callControl<{ seq: number }>('mark', {});
  const outcome = await act().then(
    () => undefined,
    (e: Error) => e,
  );
  const declared = await callControl<unknown[]>('expect', { since: seq });
  if (!outcome) throw new Error('expected the deployed policies to refuse the request, but it succeeded');
  if (declared.length === 0)
    throw new Error(`the request failed without a refusal by the policies: ${outcome.message}`);
  return outcome;
}
