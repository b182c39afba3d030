// Test support: an HTML report as headless Chromium renders it (its DOM).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Headless Chromium's DOM of a page; the test fails, by name, when Chromium is missing. */
export function renderedDom(html: string, name: string): string {
  const found = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    throw new Error(
      'chromium was not found on PATH: the report render check needs headless Chromium (Debian: apt-get install chromium; .ci/run installs it)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'kura-render-'));
  const file = join(dir, `${name}.html`);
  writeFileSync(file, html);
  const r = spawnSync(
    found,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(dir, 'profile')}`,
      '--dump-dom',
      `file://${file}`,
    ],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`chromium exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}
