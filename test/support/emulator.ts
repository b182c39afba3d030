// Test support: the shared emulator, with clients and a policy tailored to one
// test file. Each test file has its own simulated clock (vitest loads this
// module once per file): set it to a scheduled run's time before the run, as
// the schedule would, and snapshots, images and restores finish when AWS
// would finish them. Requests carry the clock, so files sharing the emulator
// never move each other's time.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { useEmulator } from '../../local/emulator.ts';
import { type Durations, SimulatedClock } from '../../local/simulated-time.ts';
import { type ClientMiddleware, Clients } from '../../shared/aws/clients.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import type { Policy } from '../../shared/policy/schema.ts';

/** This test file's simulated time. */
export const clock = new SimulatedClock();

export function emulatorEndpoint(): string {
  return inject('motoEndpoint');
}

/**
 * The operator's clients (plain credentials: the backup account's kura-admin
 * at the IAM front layer, one access key per worker so that the front layer
 * reports a refusal to the test that caused it), on the emulator and this
 * file's clock. `durations` applies to what these clients create (`'instant'`
 * only where a test is about something else).
 */
export function emulatorClients(
  region = 'ap-northeast-1',
  durations?: Durations,
  ...middleware: ClientMiddleware[]
): Clients {
  const endpoint = emulatorEndpoint();
  useEmulator(endpoint);
  process.env.AWS_ACCESS_KEY_ID = `testing-w${process.env.VITEST_POOL_ID ?? '0'}`;
  const options = clock.clientOptions(endpoint, durations);
  return new Clients({ region, ...options, middleware: [...(options.middleware ?? []), ...middleware] });
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
