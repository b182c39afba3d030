// Test support (faults): the emulator endpoint for fault tests and the
// assertions every class shares: a faulty run ends where a clean run ends, a
// crash is reported as orphans and the rerun converges.
import { expect, inject } from 'vitest';
import { useEmulator } from '../../local/emulator.ts';
import { SimulatedClock } from '../../local/simulated-time.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { type CrashPoint, stableJson, stateDiff } from './crash-points.ts';
import { type CrashRun, runWithCrash, runWorld, type WorldRun } from './harness.ts';
import { clientsAt, type Scenario } from './scenarios.ts';

/** The emulator; `admin` is replaced by clients on each world's own clock inside the harness. */
export function motoEndpoint(): { endpoint: string; admin: Clients } {
  const endpoint = inject('motoEndpoint');
  useEmulator(endpoint);
  return { endpoint, admin: clientsAt(endpoint, new SimulatedClock()) };
}

/** The clean reference run of a scenario (through a proxy that injects nothing). */
export async function cleanRun(scenario: Scenario, maxSteps?: number): Promise<WorldRun> {
  const { endpoint, admin } = motoEndpoint();
  const r = await runWorld(scenario, endpoint, admin, {
    rate: 0,
    seed: 0,
    retries: 0,
    statesPerStep: true,
    maxSteps,
  });
  expect(r.steps.filter((s) => !s.ok)).toEqual([]);
  return r;
}

export function expectSameState(reference: WorldRun, actual: unknown): void {
  const diff = stateDiff(reference.state, actual);
  expect(diff, 'end state differs from the clean run').toBe('');
  expect(stableJson(actual)).toBe(stableJson(reference.state));
}

/** A run under mixed faults at `rate`: every step must succeed at its first invocation, the end state must match. */
export async function expectFaultsAbsorbed(
  scenario: Scenario,
  reference: WorldRun,
  rate: number,
  seed: number,
  maxSteps?: number,
): Promise<WorldRun> {
  const { endpoint, admin } = motoEndpoint();
  const r = await runWorld(scenario, endpoint, admin, { rate, seed, retries: 0, maxSteps });
  expect(r.steps.filter((s) => !s.ok).map((s) => `${s.fn}@${s.time}: ${s.errors.join(' | ')}`)).toEqual([]);
  expectSameState(reference, r.state);
  return r;
}

export async function crashAndRerun(
  scenario: Scenario,
  reference: WorldRun,
  point: CrashPoint,
): Promise<CrashRun> {
  const { endpoint, admin } = motoEndpoint();
  // Reduced form: stop after the crashed step's rerun and compare with the clean run after that step.
  const r = await runWithCrash(scenario, endpoint, admin, { ...point, stopAfterCrash: true });
  expect(r.crashedAt, `the crash point "${point.name}" was never reached`).toBeDefined();
  expect(r.rerun).toEqual({ ok: true });
  expectSameState({ ...reference, state: reference.statesAfterStep[point.step] }, r.state);
  expect(r.orphansAtEnd).toEqual([]);
  return r;
}
