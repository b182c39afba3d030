// The simulated clock local runs and tests drive (local/simulated-time.ts):
// sleeping moves it instead of waiting, concurrent sleepers share the time
// they sleep, and it stands still while a request on it is unanswered.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SIMULATED_TIME_HEADER, SimulatedClock } from '../../local/simulated-time.ts';
import { ROOT } from '../support/packaged-template.ts';

const T0 = new Date('2026-11-02T19:00:00Z');

describe('SimulatedClock', () => {
  it('moves to the end of a sleep without waiting for it', async () => {
    // Arrange
    const clock = new SimulatedClock(T0);

    // Act
    await clock.timer().sleep(3600_000);

    // Assess
    expect(clock.now().toISOString()).toBe('2026-11-02T20:00:00.000Z');
  });

  it('lets concurrent pollers share each simulated minute instead of adding their sleeps up', async () => {
    // Arrange
    const clock = new SimulatedClock(T0);
    const timer = clock.timer();
    const poll = async (times: number) => {
      for (let i = 0; i < times; i++) await timer.sleep(60_000);
    };

    // Act
    await Promise.all([poll(10), poll(10), poll(5)]);

    // Assess
    expect(clock.now().toISOString()).toBe('2026-11-02T19:10:00.000Z');
  });

  it('wakes the earlier sleeper first and stands still while a request on it is unanswered', async () => {
    // Arrange
    const clock = new SimulatedClock(T0);
    const timer = clock.timer();
    const middleware = clock.middleware();
    let answer: () => void = () => {};
    const headers: Record<string, string> = {};
    const request = middleware.middleware(
      () =>
        new Promise((resolve) => {
          answer = () => resolve({ output: {}, response: {} } as never);
        }),
      {} as never,
    )({ input: {}, request: { headers } } as never);
    const woke: string[] = [];

    // Act
    const long = timer.sleep(3600_000).then(() => woke.push(`long ${clock.now().toISOString()}`));
    const short = timer.sleep(60_000).then(() => woke.push(`short ${clock.now().toISOString()}`));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const whileWaiting = clock.now().toISOString();
    answer();
    await request;
    await Promise.all([long, short]);

    // Assess
    expect(headers[SIMULATED_TIME_HEADER]).toBe(String(T0.getTime()));
    expect(whileWaiting).toBe(T0.toISOString());
    expect(woke).toEqual(['short 2026-11-02T19:01:00.000Z', 'long 2026-11-02T20:00:00.000Z']);
  });

  it("hands a command's clock back to its parent as the command exits", async () => {
    // Arrange: a command on KURA_SIMULATED_TIME whose waits move its clock an hour.
    const file = join(tmpdir(), `kura-clock-${randomBytes(6).toString('hex')}`);
    const module = pathToFileURL(join(ROOT, 'local/simulated-time.ts')).href;
    const script = `import { commandClock } from '${module}'; commandClock().advance(3600); commandClock().advance(60);`;

    // Act
    await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, KURA_SIMULATED_TIME: T0.toISOString(), KURA_SIMULATED_TIME_FILE: file },
    });

    // Assess: one clock for the whole command, its time written for the parent.
    expect(readFileSync(file, 'utf8')).toBe('2026-11-02T20:01:00.000Z');
  });
});
