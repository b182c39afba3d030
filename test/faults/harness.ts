// Fault harness: runs one scenario's world through the fault proxy, with
// random faults or with a crash at a chosen request, and returns its
// normalised end state and the figures (requests, faults, retries, re-invokes,
// orphans). Used by test/faults/*.test.ts and bench/faults/run.ts.
import {
  type CrashRule,
  type FaultKind,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultStats,
  faultsInjected,
  type RequestInfo,
  startFaultProxy,
} from '../../local/fault-proxy.ts';
import { SimulatedClock } from '../../local/simulated-time.ts';
import type { Clients } from '../../shared/aws/clients.ts';
import { estatePorts } from '../../shared/edge/report-ports.ts';
import type { Deps } from '../../shared/aws/deps.ts';
import { findOrphans, type Orphan } from '../../shared/usecases/orphans.ts';

const orphansOf = (deps: Deps) => findOrphans(deps, estatePorts(deps));
import {
  clientsAt,
  invoke,
  normalise,
  runSteps,
  type Scenario,
  type StepOutcome,
  type World,
} from './scenarios.ts';

export interface WorldRun {
  world: World;
  state: unknown;
  /** The normalised state after each step (when asked for with `statesPerStep`). */
  statesAfterStep: unknown[];
  steps: StepOutcome[];
  stats: FaultStats;
  requestsPerStep: number[];
  durationMs: number;
}

export interface FaultyRunOptions {
  rate: number;
  seed: number;
  kinds?: FaultKind[];
  slowMs?: number;
  /** Only these requests may get faults (default: all). */
  eligible?: (r: RequestInfo) => boolean;
  /** Re-invocations allowed per step (the schedule's retry); 0 = the first try must succeed. */
  retries?: number;
  /** Record the state after every step too (a reference for crash runs that stop early). */
  statesPerStep?: boolean;
  /** Run only the first n steps. */
  maxSteps?: number;
}

const proxies = new Map<string, FaultProxy>();
/**
 * One proxy per emulator for the whole process, reset for every world.
 * Worlds run one after the other within a process; each has its own
 * simulated clock, set to each step's scheduled time.
 */
async function proxyFor(motoEndpoint: string, opts: Omit<FaultProxyOptions, 'target'>): Promise<FaultProxy> {
  let p = proxies.get(motoEndpoint);
  if (!p) {
    p = await startFaultProxy({ target: motoEndpoint });
    proxies.set(motoEndpoint, p);
  }
  p.reset(opts);
  return p;
}

/** Closes the proxies this process started (the bench calls it at the end). */
export async function closeProxies(): Promise<void> {
  for (const p of proxies.values()) await p.close();
  proxies.clear();
}

let counter = 0;
/** A suffix unique to this process and call, deterministic in shape. */
export function worldSuffix(tag: string): string {
  counter++;
  return `${tag}${process.pid.toString(36)}${counter.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

/** Runs every step of a fresh world through the proxy at the given fault rate (0 = a clean reference run). */
export async function runWorld(
  scenario: Scenario,
  motoEndpoint: string,
  admin: Clients,
  opts: FaultyRunOptions,
): Promise<WorldRun> {
  const clock = new SimulatedClock();
  admin = clientsAt(motoEndpoint, clock);
  const world = await scenario.setup(admin, worldSuffix(scenario.class.slice(0, 2)));
  const proxy = await proxyFor(motoEndpoint, {
    seed: opts.seed,
    rate: opts.rate,
    kinds: opts.kinds,
    slowMs: opts.slowMs ?? 150,
    eligible: opts.eligible,
  });
  try {
    const clients = clientsAt(proxy.endpoint, clock);
    const requestsPerStep: number[] = [];
    const steps: StepOutcome[] = [];
    const statesAfterStep: unknown[] = [];
    let durationMs = 0;
    for (const step of world.steps.slice(0, opts.maxSteps)) {
      const before = proxy.stats.requests;
      const t = Date.now();
      steps.push(...(await runSteps({ ...world, steps: [step] }, admin, clients, opts.retries ?? 2, clock)));
      durationMs += Date.now() - t;
      requestsPerStep.push(proxy.stats.requests - before);
      if (opts.statesPerStep) statesAfterStep.push(normalise(await world.state(admin), world));
    }
    const state = statesAfterStep.at(-1) ?? normalise(await world.state(admin), world);
    if (process.env.KURA_FAULT_PROFILE) {
      const byOp = new Map<string, number>();
      for (const l of proxy.log) byOp.set(l.operation, (byOp.get(l.operation) ?? 0) + (l.ms ?? 0));
      console.log([...byOp].sort((a, b) => b[1] - a[1]).slice(0, 8));
    }
    return {
      world,
      state,
      statesAfterStep,
      steps,
      stats: structuredClone(proxy.stats),
      requestsPerStep,
      durationMs,
    };
  } finally {
    proxy.setRate(0);
  }
}

export interface CrashRunOptions {
  /** Which step crashes (index into the world's steps). */
  step: number;
  /** Where: a rule over the step's requests (its `seq` counts from the step's first request). */
  at: (r: { operation: string; path: string; stepSeq: number; stepNth: number }) => boolean;
  when: CrashRule['when'];
  /** Stop after the crashed step's rerun (compare with the clean run's state after that step). */
  stopAfterCrash?: boolean;
}

export interface CrashRun {
  world: World;
  state: unknown;
  crashedAt?: { operation: string; stepSeq: number; when: CrashRule['when'] };
  /** What findOrphans reported right after the crash, and after the rerun converged. */
  orphansAfterCrash: Orphan[];
  orphansAtEnd: Orphan[];
  /** The rerun of the crashed step (clean): did it succeed at once. */
  rerun: { ok: boolean; error?: string };
  steps: StepOutcome[];
}

/** Runs a fresh world cleanly except one step that "crashes" at a chosen request; then reruns that step. */
export async function runWithCrash(
  scenario: Scenario,
  motoEndpoint: string,
  admin: Clients,
  opts: CrashRunOptions,
): Promise<CrashRun> {
  const clock = new SimulatedClock();
  admin = clientsAt(motoEndpoint, clock);
  const world = await scenario.setup(admin, worldSuffix(scenario.class.slice(0, 2)));
  const proxy = await proxyFor(motoEndpoint, { rate: 0 });
  try {
    const clients = clientsAt(proxy.endpoint, clock);
    const steps: StepOutcome[] = [];
    let orphansAfterCrash: Orphan[] = [];
    let crashedAt: CrashRun['crashedAt'];
    let rerun: CrashRun['rerun'] = { ok: true };
    for (const [i, step] of world.steps.entries()) {
      if (opts.stopAfterCrash && i > opts.step) break;
      if (i !== opts.step) {
        steps.push(...(await runSteps({ ...world, steps: [step] }, admin, clients, 0, clock)));
        continue;
      }
      clock.set(step.time);
      if (step.before) await step.before(admin);
      const first = proxy.stats.requests;
      const perOp = new Map<string, number>();
      proxy.setCrash({
        when: opts.when,
        match: (r) => {
          const stepNth = (perOp.get(r.operation) ?? 0) + 1;
          perOp.set(r.operation, stepNth);
          return opts.at({ operation: r.operation, path: r.path, stepSeq: r.seq - first, stepNth });
        },
      });
      await invoke(step, world.policy, clients);
      if (proxy.stats.crashedAt) {
        const r = proxy.stats.crashedAt;
        crashedAt = { operation: r.operation, stepSeq: r.seq - first, when: opts.when };
        orphansAfterCrash = await orphansOf({ policy: world.policy, clients: admin });
      }
      proxy.revive();
      rerun = await invoke(step, world.policy, clients);
      steps.push({
        fn: step.fn,
        time: step.time.toISOString(),
        invocations: 2,
        ok: rerun.ok,
        errors: rerun.error ? [rerun.error] : [],
      });
    }
    const orphansAtEnd = await orphansOf({ policy: world.policy, clients: admin });
    const state = normalise(await world.state(admin), world);
    return {
      world,
      state,
      crashedAt,
      orphansAfterCrash: normalise(orphansAfterCrash, world) as Orphan[],
      orphansAtEnd: normalise(orphansAtEnd, world) as Orphan[],
      rerun,
      steps,
    };
  } finally {
    proxy.revive();
  }
}

export function summary(s: FaultStats): string {
  return `${s.requests} requests, ${faultsInjected(s)} faults (${Object.entries(s.injected)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}), ${s.retriesObserved} retries seen`;
}
