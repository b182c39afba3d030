// The test suite's own guards: a check that needs a program beyond Node and
// moto finds it on PATH, fails with the install command when it is required
// and missing, is skipped with the reason when it is optional and missing
// outside CI, and the run's summary counts the skipped checks by reason.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skippedSummary } from '../support/skipped-checks-reporter.ts';
import { MissingToolError, requireTool, tool, toolOrSkip, underCi } from '../support/tools.ts';

/** A PATH of one directory holding fake programs of these names. */
function pathWith(...programs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'kura-tools-'));
  for (const p of programs) {
    writeFileSync(join(dir, p), '#!/bin/sh\n');
    chmodSync(join(dir, p), 0o755);
  }
  return dir;
}

/** A stand-in for vitest's ctx.skip: records the note and stops the check, as vitest does. */
function skipRecorder() {
  const notes: string[] = [];
  const ctx = {
    skip: ((note?: string) => {
      notes.push(note ?? '');
      throw new Error('skipped');
    }) as never,
  };
  return { ctx, notes };
}

describe('tools a check needs', () => {
  it('finds a tool on PATH, and counts it missing when PATH lacks it or the run hides it', () => {
    const PATH = pathWith('chromium');
    expect(tool('chromium', { PATH }).path).toBe(join(PATH, 'chromium'));
    expect(tool('chromium', { PATH: pathWith() }).path).toBeUndefined();
    expect(tool('chromium', { PATH, KURA_TEST_HIDE_TOOLS: 'mariadb,chromium' }).path).toBeUndefined();
    expect(tool('chromium', { PATH: pathWith() }).missing).toBe(
      'chromium not installed — apt-get install chromium',
    );
  });

  it('fails a check whose required tool is missing, with the install command, CI or not', () => {
    const env = { PATH: pathWith() };
    expect(() => requireTool('cfn-lint', env)).toThrow(MissingToolError);
    expect(() => requireTool('cfn-lint', env)).toThrow('cfn-lint not installed — pip install cfn-lint');
    const { ctx, notes } = skipRecorder();
    expect(() => toolOrSkip(ctx, 'cfn-lint', env)).toThrow('cfn-lint not installed — pip install cfn-lint');
    expect(notes).toEqual([]);
  });

  it('skips a check whose optional tool is missing, with the reason, outside CI', () => {
    const { ctx, notes } = skipRecorder();
    expect(() => toolOrSkip(ctx, 'chromium', { PATH: pathWith() })).toThrow('skipped');
    expect(notes).toEqual(['chromium not installed — apt-get install chromium']);
  });

  it('fails that same check under CI, naming the install command', () => {
    const { ctx, notes } = skipRecorder();
    const env = { PATH: pathWith(), CI: 'true' };
    expect(() => toolOrSkip(ctx, 'mariadb', { ...env, KURA_TEST_HIDE_TOOLS: 'mariadb' })).toThrow(
      'mariadb not installed — apt-get install mariadb-server (required under CI; .ci/run installs it)',
    );
    expect(notes).toEqual([]);
  });

  it('hands out the path when the tool is installed, CI or not', () => {
    const PATH = pathWith('chromium');
    const { ctx, notes } = skipRecorder();
    expect(toolOrSkip(ctx, 'chromium', { PATH })).toBe(join(PATH, 'chromium'));
    expect(toolOrSkip(ctx, 'chromium', { PATH, CI: 'true' })).toBe(join(PATH, 'chromium'));
    expect(notes).toEqual([]);
  });

  it('reads CI as CI does: set and not false', () => {
    expect([{}, { CI: '' }, { CI: 'false' }, { CI: '0' }].map(underCi)).toEqual([false, false, false, false]);
    expect([{ CI: 'true' }, { CI: '1' }].map(underCi)).toEqual([true, true]);
  });
});

describe("the run's summary of skipped checks", () => {
  it('counts the skipped checks per reason, the most frequent first', () => {
    const chromium = 'chromium not installed — apt-get install chromium';
    const mariadb = 'mariadb not installed — apt-get install mariadb-server';
    expect(skippedSummary([chromium, mariadb, chromium, chromium])).toEqual([
      `3 checks skipped: ${chromium}`,
      `1 check skipped: ${mariadb}`,
    ]);
    expect(skippedSummary([])).toEqual([]);
  });
});
