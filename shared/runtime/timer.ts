// Runtime: the clock kura waits on while AWS finishes something (the budget of
// an in-process poll and the pause between polls) and times a restore by (its
// duration against the RTO). A run's "now" comes from
// its event, never from here. Real time by default; whoever builds the Clients
// may pass another (local runs pass simulated time, so that polls do not sleep).
export interface Timer {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realTimer: Timer = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
