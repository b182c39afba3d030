// Per-worker setup: the SDK's notice about its future Node.js floor is noise
// in test output (the engines field already states what we support).
import { afterEach, beforeEach, inject } from 'vitest';
import { callControl } from '../local/iam/principals.ts';

const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (type === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
  (emitWarning as (...a: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

// Every request a test makes (in-process or from a `kura` subprocess) goes
// through the IAM front layer; a request it refused fails the test that made
// it, even when the code under test caught the AccessDenied, unless the test
// declared the refusal (test/support/iam.ts: expectRefused, withoutGrant).
process.env.KURA_IAM_CONTROL = inject('motoEndpoint');
process.env.KURA_IAM_WORKER = process.env.VITEST_POOL_ID ?? '0';
let mark = 0;
beforeEach(async () => {
  mark = (await callControl<{ seq: number }>('mark', {})).seq;
});
afterEach(async () => {
  const denied = await callControl<{ message?: string }[]>(`denials?since=${mark}`, {});
  if (denied.length)
    throw new Error(
      `the deployed policies refuse ${denied.length} request(s) this test made:\n${denied.map((d) => `  - ${d.message}`).join('\n')}`,
    );
});
