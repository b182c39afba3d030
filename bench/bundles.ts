// Benchmark: Lambda bundle sizes (cold starts grow with them). Packages the
// service offline and prints each function's minified handler size.
// Run: npx tsx bench/bundles.ts
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable } from '../local/demo/format.ts';
import { offlineEnv } from '../test/support/packaged-template.ts';

const root = join(import.meta.dirname, '..');
const out = join(root, 'bench', 'out', 'package');
execFileSync(
  process.execPath,
  [join(root, 'node_modules/osls/bin/serverless.js'), 'package', '--package', out],
  {
    cwd: root,
    env: offlineEnv(),
    stdio: 'inherit',
  },
);
const rows = readdirSync(out)
  .filter((f) => f.endsWith('.zip'))
  .map((zip) => {
    const listing = execFileSync('unzip', ['-l', join(out, zip)], { encoding: 'utf8' });
    const handler = listing.split('\n').find((l) => /handler\.mjs$/.test(l.trim()));
    const bytes = Number(handler?.trim().split(/\s+/)[0] ?? 0);
    return {
      function: zip.replace(/\.zip$/, ''),
      'handler.mjs (KB)': (bytes / 1024).toFixed(0),
      'zip (KB)': (statSync(join(out, zip)).size / 1024).toFixed(0),
    };
  });
console.log(formatTable(rows));
