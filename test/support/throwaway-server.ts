// Test support: stopping a database server a test started for itself
// (MariaDB, PostgreSQL): its own signal first, SIGKILL if it lingers, then
// its data directory removed.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export function stopThrowawayServer(child: ChildProcess, dir: string, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null) return done();
    child.once('exit', done);
    child.kill(signal);
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}
