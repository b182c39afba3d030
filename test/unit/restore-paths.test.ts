// Names from backup data (log bundle members, content keys) never write
// outside the restore target.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalDirSink } from '../../shared/aws/log-sinks.ts';
import { escapeProblem } from '../../shared/domain/restore-paths.ts';

async function* bytes(s: string) {
  yield new TextEncoder().encode(s);
}

describe('restore target paths', () => {
  it('refuses absolute paths and ".." segments, and accepts names that stay inside', () => {
    expect(escapeProblem('../etc/passwd')).toBe('a ".." segment');
    expect(escapeProblem('web-1/access/../../../x')).toBe('a ".." segment');
    expect(escapeProblem('/etc/passwd')).toBe('an absolute path');
    expect(escapeProblem('C:\\Windows\\x')).toBe('an absolute path');
    expect(escapeProblem('a\\..\\..\\x')).toBe('a ".." segment');
    expect(escapeProblem('')).toBe('an empty name');
    expect(escapeProblem('web-1/access/2026-11-01.log')).toBeUndefined();
    expect(escapeProblem('images/..hidden/file..jpg')).toBeUndefined();
  });

  it('writes nothing outside a local restore folder when a log member climbs out of it', async () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 'kura-sink-'));
    const sink = new LocalDirSink(join(root, 'restored'));

    // Act / Assess
    await expect(sink.write('../escaped.log', bytes('x'), { size: 1 })).rejects.toThrow(
      /log member "\.\.\/escaped\.log" would escape the restore target \(a "\.\." segment\)/,
    );
    await expect(sink.write('/tmp/abs.log', bytes('x'), { size: 1 })).rejects.toThrow(/an absolute path/);
    expect(existsSync(join(root, 'escaped.log'))).toBe(false);
    await sink.write('web-1/access/a.log', bytes('x'), { size: 1 });
    expect(existsSync(join(root, 'restored/web-1/access/a.log'))).toBe(true);
  });
});
