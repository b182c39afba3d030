// Benchmark: each Lambda's bundle and its cold import. Builds every function
// with esbuild and the options of serverless.yml (custom.esbuild: bundle,
// minify, node22, ESM, tree shaking, mysql2 external, the policy compiled in),
// then, in a fresh Node process per function, times the import of its bundle
// plus the parse of the compiled policy (what a cold start does before the
// handler runs). Reports minified size, the largest packages inside, and the
// cold import (median of RUNS). Goals (issue 18): <= 700 KB per function,
// <= 1.2 MB for the image function (ami-backup: EC2's client alone is ~1 MB);
// cold import <= 150 ms.
// Run: npx tsx bench/bundles.ts [runs=5]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { functionNames } from '../functions/registry.ts';
import { formatTable } from '../local/demo/format.ts';

const root = join(import.meta.dirname, '..');
const out = join(root, 'bench', 'out', 'bundles');
const RUNS = Number(process.argv[2] ?? 5);
const require = createRequire(import.meta.url);
const { policyDefine } = require('../deploy/from-policy.cjs') as { policyDefine: () => string };
const GOAL_KB: Record<string, number> = { 'ami-backup': 1200 };

const options = {
  bundle: true,
  minify: true,
  target: 'node22',
  platform: 'node' as const,
  format: 'esm' as const,
  treeShaking: true,
  external: ['mysql2'],
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  define: { __KURA_POLICY__: policyDefine() },
  logLevel: 'error' as const,
};

mkdirSync(out, { recursive: true });
const rows = [];
const json = [];
for (const fn of functionNames()) {
  const entry = join(root, 'functions', fn, 'handler.ts');
  const r = await build({
    ...options,
    entryPoints: [entry],
    outfile: join(out, `${fn}.mjs`),
    metafile: true,
  });
  const output = Object.values(r.metafile.outputs)[0] as {
    bytes: number;
    inputs: Record<string, { bytesInOutput: number }>;
  };
  const byPackage = new Map<string, number>();
  for (const [path, v] of Object.entries(output.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const k = m ? (m[1] as string) : 'kura';
    byPackage.set(k, (byPackage.get(k) ?? 0) + v.bytesInOutput);
  }
  // The same bundle with the cold start's policy parse run at import.
  const cold = join(out, `${fn}.cold.mjs`);
  await build({
    ...options,
    stdin: {
      contents: `export { handler } from ${JSON.stringify(entry)};\nimport { policyFromEnvironment } from ${JSON.stringify(join(root, 'shared/edge/lambda.ts'))};\npolicyFromEnvironment();\n`,
      resolveDir: root,
      loader: 'ts',
    },
    outfile: cold,
  });
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ms = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const t = performance.now(); await import(${JSON.stringify(cold)}); process.stdout.write(String(performance.now() - t));`,
      ],
      { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    times.push(Number(ms));
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] as number;
  const kb = output.bytes / 1024;
  const goal = GOAL_KB[fn] ?? 700;
  const top = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4);
  rows.push({
    function: fn,
    'minified KB': kb.toFixed(0),
    'goal KB': goal,
    'size ok': kb <= goal ? 'yes' : 'NO',
    'cold import ms (median)': median.toFixed(0),
    'import ok': median <= 150 ? 'yes' : 'NO',
    'largest inside (KB)': top
      .map(([k, v]) => `${k.replace('@aws-sdk/', '')} ${(v / 1024).toFixed(0)}`)
      .join(', '),
  });
  json.push({
    function: fn,
    bytes: output.bytes,
    coldImportMs: times,
    packages: Object.fromEntries(byPackage),
  });
}
console.log(formatTable(rows));
writeFileSync(
  join(root, 'bench', 'bundles-last-run.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model,
      runs: RUNS,
      functions: json,
    },
    null,
    1,
  ),
);
