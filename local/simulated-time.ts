// Local runtime: simulated time. kura's emulator (local/moto/) keeps new
// snapshots, images, copies and restored databases in progress for as long as
// AWS would, measured in the simulated time each request carries. A clock
// belongs to whoever drives the runs (a test file, `kura demo`, a `kura`
// command): it is set to each scheduled run's time, moved forward by the
// state machine runner's Wait states and retries, and by in-process polls
// (its timer sleeps by moving the clock, not by waiting). Production code
// never sees it: it reaches the SDK as middleware and a Timer given to Clients.
import { writeFileSync } from 'node:fs';
import type { ClientMiddleware, ClientsOptions } from '../shared/aws/clients.ts';
import type { Timer } from '../shared/runtime/timer.ts';

export const SIMULATED_TIME_HEADER = 'x-kura-simulated-time';
export const DURATIONS_HEADER = 'x-kura-durations';

/** Kinds of work whose duration the emulator simulates (local/moto/kura_moto/simtime.py). */
export type DurationKind =
  | 'rds.snapshot'
  | 'rds.cluster-snapshot'
  | 'rds.snapshot-copy'
  | 'rds.snapshot-copy-region'
  | 'rds.restore'
  | 'rds.cluster-restore'
  | 'rds.cluster-instance'
  | 'ec2.image'
  | 'ec2.image-copy'
  | 'ec2.snapshot-release'
  | `s3.restore.${string}`;

/** `instant` (a test that asks for it) or per-kind seconds for what these requests create. */
export type Durations = 'instant' | Partial<Record<DurationKind, number>>;

export class SimulatedClock {
  private ms: number;
  /** Sleepers waiting for the clock to reach their time. */
  private sleepers: { until: number; wake: () => void }[] = [];
  /** SDK requests on this clock still waiting for the emulator's answer. */
  private inFlight = 0;
  private ticking = false;

  constructor(start: Date = new Date()) {
    this.ms = start.getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  /** Moves the clock to `t` (a scheduled run's time); earlier times are allowed (a replay). */
  set(t: Date): void {
    this.ms = t.getTime();
  }

  /** Moves the clock forward to `t` (never back: a replayed or skewed event runs at the current time). */
  advanceTo(t: Date): void {
    if (t.getTime() > this.ms) this.ms = t.getTime();
  }

  advance(seconds: number): void {
    this.ms += Math.max(0, seconds) * 1000;
  }

  /**
   * Polls, retries and Wait states sleep on this: the clock moves instead of
   * waiting. Like a discrete-event simulation, it moves only while nothing on
   * it is talking to the emulator, and then to the earliest sleeper's time, so
   * concurrent pollers (a Map's items) share each simulated minute instead of
   * moving the clock one after the other.
   */
  timer(): Timer {
    return {
      now: () => this.ms,
      sleep: (ms) =>
        new Promise<void>((wake) => {
          this.sleepers.push({ until: this.ms + Math.max(0, ms), wake });
          this.tick();
        }),
    };
  }

  private tick(): void {
    if (this.ticking) return;
    this.ticking = true;
    // A real millisecond for whoever is between two requests to start the next one or to sleep too.
    setTimeout(() => {
      this.ticking = false;
      if (this.sleepers.length === 0) return;
      if (this.inFlight === 0) {
        const earliest = Math.min(...this.sleepers.map((s) => s.until));
        if (earliest > this.ms) this.ms = earliest;
        const due = this.sleepers.filter((s) => s.until <= this.ms);
        this.sleepers = this.sleepers.filter((s) => s.until > this.ms);
        for (const s of due) s.wake();
      }
      if (this.sleepers.length > 0) this.tick();
    }, 1);
  }

  /** The SDK middleware that stamps each request with this clock's time. */
  middleware(durations?: Durations): ClientMiddleware {
    const durationsHeader =
      durations === undefined
        ? undefined
        : durations === 'instant'
          ? 'instant'
          : Object.entries(durations)
              .map(([k, v]) => `${k}=${v}`)
              .join(',');
    return {
      name: 'kuraSimulatedTime',
      middleware: (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers) {
          request.headers[SIMULATED_TIME_HEADER] = String(this.ms);
          if (durationsHeader) request.headers[DURATIONS_HEADER] = durationsHeader;
        }
        this.inFlight += 1;
        try {
          return await next(args);
        } finally {
          this.inFlight -= 1;
        }
      },
    };
  }

  /** What a Clients needs to talk to the emulator on this clock. */
  clientOptions(endpoint: string, durations?: Durations): ClientsOptions {
    return { endpoint, middleware: [this.middleware(durations)], timer: this.timer() };
  }
}

/** `KURA_SIMULATED_TIME` (ISO) as a clock: how a parent process shares its clock with a `kura` command. */
export function clockFromEnvironment(env: NodeJS.ProcessEnv = process.env): SimulatedClock | undefined {
  const raw = env.KURA_SIMULATED_TIME;
  if (!raw) return undefined;
  const t = new Date(raw);
  if (Number.isNaN(t.getTime()))
    throw new Error(`KURA_SIMULATED_TIME: found "${raw}"; expected an ISO-8601 time`);
  return new SimulatedClock(t);
}

let commandClockOnce: { clock: SimulatedClock | undefined } | undefined;
const sharedAtExit = new WeakSet<SimulatedClock>();

/**
 * When the parent names KURA_SIMULATED_TIME_FILE, the clock's time is written
 * there as this process exits: the parent (a test) continues from where the
 * command left the clock, since a restore's Wait states and polls move it by
 * minutes or hours.
 */
export function shareClockAtExit(clock: SimulatedClock, env: NodeJS.ProcessEnv = process.env): void {
  const file = env.KURA_SIMULATED_TIME_FILE;
  if (!file || sharedAtExit.has(clock)) return;
  sharedAtExit.add(clock);
  process.on('exit', () => writeFileSync(file, clock.now().toISOString()));
}

/** The one clock of a `kura` command (KURA_SIMULATED_TIME), shared back to its parent at exit. */
export function commandClock(env: NodeJS.ProcessEnv = process.env): SimulatedClock | undefined {
  commandClockOnce ??= { clock: clockFromEnvironment(env) };
  const { clock } = commandClockOnce;
  if (clock) shareClockAtExit(clock, env);
  return clock;
}
