// Benchmark: each Lambda's bundle and its cold import. Builds every function
// with esbuild and the options of serverless.yml (custom.esbuild, read from
// the file: ES module builds of the SDK, the lean credential alias, the SQL
// drivers external, the policy compiled in),
// then, in a fresh Node process per function, times the import of its bundle
// plus the parse of the compiled policy (what a cold start does before the
// handler runs). Reports minified size, the largest packages inside, and the
// cold import (median of RUNS). Goals (issue 18): <= 700 KB per function,
// <= 1.2 MB for the image function (ami-backup: EC2's client alone is ~1 MB);
// cold import <= 150 ms. Also the isolated account's probe runner (its build,
// deploy/probe-runner.ts; no policy to parse).
// Run: npx tsx bench/bundles.ts [runs=5]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { bundleGoalKb, lambdaBuildOptions } from '../deploy/lambda-build.ts';
import { probeRunnerBuildOptions } from '../deploy/probe-runner.ts';
import { functionNames } from '../functions/registry.ts';
import { formatTable } from '../local/demo/format.ts';

const root = join(import.meta.dirname, '..');
const out = join(root, 'bench', 'out', 'bundles');
const RUNS = Number(process.argv[2] ?? 5);

const options = lambdaBuildOptions();

function middle(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

mkdirSync(out, { recursive: true });
const rows = [];
const json = [];
const load = [loadavg()[0] as number];
// kura's functions (the packaging's options, the policy parse at cold start)
// and the isolated account's probe runner (its own build, no policy).
const targets = [
  ...functionNames().map((fn) => ({ fn, options, policy: true })),
  { fn: 'probe-runner', options: probeRunnerBuildOptions(), policy: false },
];
const built = [];
for (const { fn, options, policy } of targets) {
  process.stderr.write(`${fn}: building…\n`);
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
      contents: policy
        ? `export { handler } from ${JSON.stringify(entry)};\nimport { policyFromEnvironment } from ${JSON.stringify(join(root, 'shared/edge/lambda.ts'))};\npolicyFromEnvironment();\n`
        : `export { handler } from ${JSON.stringify(entry)};\n`,
      resolveDir: root,
      loader: 'ts',
    },
    outfile: cold,
  });
  built.push({ fn, cold, output, byPackage, times: [] as number[], cpu: [] as number[] });
}

// Wall time is what a cold start waits; CPU time (all the process's threads)
// is what it costs, and moves far less when other work shares the cores. The
// imports take turns (each function once per round) so that a busy spell of
// the shared host spreads over every function instead of one function's runs.
for (let i = 0; i < RUNS; i++) {
  process.stderr.write(`cold imports, round ${i + 1} of ${RUNS}…\n`);
  for (const b of built) {
    const [wall, used] = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const c = process.cpuUsage(); const t = performance.now(); await import(${JSON.stringify(b.cold)}); const w = performance.now() - t; const u = process.cpuUsage(c); process.stdout.write(w + ' ' + (u.user + u.system) / 1000);`,
      ],
      { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    )
      .split(' ')
      .map(Number);
    b.times.push(wall as number);
    b.cpu.push(used as number);
  }
}

for (const { fn, output, byPackage, times, cpu } of built) {
  const median = middle(times);
  const cpuMedian = middle(cpu);
  const kb = output.bytes / 1024;
  const goal = bundleGoalKb(fn);
  const top = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4);
  rows.push({
    function: fn,
    'minified KB': kb.toFixed(0),
    'goal KB': goal,
    'size ok': kb <= goal ? 'yes' : 'NO',
    'cold import ms (median)': median.toFixed(0),
    'import ok': median <= 150 ? 'yes' : 'NO',
    'CPU ms (median)': cpuMedian.toFixed(0),
    'largest inside (KB)': top
      .map(([k, v]) => `${k.replace('@aws-sdk/', '')} ${(v / 1024).toFixed(0)}`)
      .join(', '),
  });
  json.push({
    function: fn,
    bytes: output.bytes,
    coldImportMs: times,
    coldImportCpuMs: cpu,
    packages: Object.fromEntries(byPackage),
  });
}
load.push(loadavg()[0] as number);
console.log(formatTable(rows));
console.log(
  `load average (1 min) ${load[0]?.toFixed(1)} at start, ${load[1]?.toFixed(1)} at end, ${cpus().length} cores`,
);
writeFileSync(
  join(root, 'bench', 'bundles-last-run.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model,
      runs: RUNS,
      loadAverage: load,
      functions: json,
    },
    null,
    1,
  ),
);
