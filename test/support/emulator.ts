// Test support: points the SDK at the shared moto server and hands out
// clients and a policy tailored to one test file.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { useEmulator } from '../../local/emulator.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import type { Policy } from '../../shared/policy/schema.ts';

/**
 * The operator's clients (plain credentials: the backup account's kura-admin
 * at the IAM front layer), one access key per worker so that the front layer
 * reports a refusal to the test that caused it.
 */
export function emulatorClients(region = 'ap-northeast-1'): Clients {
  useEmulator(inject('motoEndpoint'));
  process.env.AWS_ACCESS_KEY_ID = `testing-w${process.env.VITEST_POOL_ID ?? '0'}`;
  return new Clients({ region });
}

/** A short random suffix so resources of different test files never collide. */
export function uniqueSuffix(): string {
  return randomBytes(3).toString('hex');
}

/** The reference policy with overrides, and a selector tag unique to the caller. */
export function testPolicy(overrides: (p: Policy) => void = () => {}): Policy {
  const p = structuredClone(loadPolicy());
  p.selector = { tagKey: `kura:backup-${uniqueSuffix()}`, tagValue: 'true' };
  overrides(p);
  return p;
}
