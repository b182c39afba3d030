// Bench (full form of the fault suite): every backup class run many times
// through the fault proxy, each run compared with a clean run of the same
// scenario; then crashes at named and at random points, each followed by a
// clean rerun that must converge. Starts its own moto server.
//
//   npx tsx bench/faults/run.ts [--runs 5] [--rate 0.1,0.3] [--seed 1]
//                               [--crashes 8] [--classes database,content,logs,image]
//                               [--out bench/faults/last-run.json]
//
// Prints a table and writes the figures as JSON (docs/reliability.md quotes them).
import { SimulatedClock } from '../../local/simulated-time.ts';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEmulator, useEmulator } from '../../local/emulator.ts';
import { FAULT_KINDS, type FaultKind, faultsInjected, mulberry32 } from '../../local/fault-proxy.ts';
import { type CrashPoint, CRASH_POINTS, stableJson, stateDiff } from '../../test/faults/crash-points.ts';
import { closeProxies, runWithCrash, runWorld } from '../../test/faults/harness.ts';
import { type ClassName, clientsAt, SCENARIOS } from '../../test/faults/scenarios.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    rate: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '1' },
    crashes: { type: 'string', default: '8' },
    classes: { type: 'string', default: 'database,content,logs,image' },
    kinds: { type: 'string', default: 'mixed' },
    out: { type: 'string', default: 'bench/faults/last-run.json' },
  },
});
const runs = Number(values.runs);
const rates = String(values.rate).split(',').map(Number);
const seed0 = Number(values.seed);
const crashes = Number(values.crashes);
const classes = String(values.classes).split(',') as ClassName[];
const kindSets: { label: string; kinds: FaultKind[] }[] =
  values.kinds === 'each'
    ? [{ label: 'mixed', kinds: FAULT_KINDS }, ...FAULT_KINDS.map((k) => ({ label: k, kinds: [k] }))]
    : [{ label: 'mixed', kinds: FAULT_KINDS }];

interface FaultRow {
  class: ClassName;
  kinds: string;
  rate: number;
  runs: number;
  requests: number;
  faults: number;
  byKind: Record<FaultKind, number>;
  retries: number;
  reinvoked: number;
  converged: number;
  differences: string[];
  seconds: number;
}

interface CrashRow {
  class: ClassName;
  point: string;
  when: string;
  crashedAt?: string;
  rerunOk: boolean;
  converged: boolean;
  orphansAfterCrash: string[];
  orphansAtEnd: number;
  difference?: string;
}

const emulator = await startEmulator();
useEmulator(emulator.endpoint);
const admin = clientsAt(emulator.endpoint, new SimulatedClock());
const faultRows: FaultRow[] = [];
const crashRows: CrashRow[] = [];
const t0 = Date.now();
try {
  for (const cls of classes) {
    const scenario = SCENARIOS[cls];
    const clean = await runWorld(scenario, emulator.endpoint, admin, { rate: 0, seed: 0, retries: 0 });
    if (!clean.steps.every((s) => s.ok))
      throw new Error(`${cls}: the clean run failed: ${JSON.stringify(clean.steps)}`);
    const reference = stableJson(clean.state);
    console.log(`${cls}: clean run ${clean.stats.requests} requests in ${clean.durationMs} ms`);

    for (const { label, kinds } of kindSets) {
      for (const rate of rates) {
        const row: FaultRow = {
          class: cls,
          kinds: label,
          rate,
          runs: 0,
          requests: 0,
          faults: 0,
          byKind: { throttle: 0, error5xx: 0, slow: 0, dropBefore: 0, dropAfter: 0 },
          retries: 0,
          reinvoked: 0,
          converged: 0,
          differences: [],
          seconds: 0,
        };
        const started = Date.now();
        for (let i = 0; i < runs; i++) {
          const seed = seed0 + i;
          const r = await runWorld(scenario, emulator.endpoint, admin, { rate, seed, kinds });
          row.runs++;
          row.requests += r.stats.requests;
          row.faults += faultsInjected(r.stats);
          for (const k of FAULT_KINDS) row.byKind[k] += r.stats.injected[k];
          row.retries += r.stats.retriesObserved;
          row.reinvoked += r.steps.filter((s) => s.invocations > 1).length;
          const failed = r.steps.filter((s) => !s.ok);
          const same = stableJson(r.state) === reference;
          if (same && failed.length === 0) row.converged++;
          else
            row.differences.push(
              `seed ${seed}: ${failed.length ? `failed steps ${failed.map((s) => `${s.fn}@${s.time}: ${s.errors.at(-1)}`).join('; ')}` : ''}${same ? '' : ` state differs: ${stateDiff(clean.state, r.state)}`}`,
            );
          for (const s of r.steps.filter((x) => x.invocations > 1))
            row.differences.push(`seed ${seed}: re-invoked ${s.fn}@${s.time}: ${s.errors.join(' | ')}`);
        }
        row.seconds = Math.round((Date.now() - started) / 100) / 10;
        faultRows.push(row);
        console.log(
          `${cls} ${label} rate ${rate}: ${row.converged}/${row.runs} converged, ${row.faults} faults in ${row.requests} requests, ${row.retries} retries, ${row.reinvoked} re-invoked (${row.seconds}s)`,
        );
        for (const d of row.differences) console.log(`   ${d.slice(0, 400)}`);
      }
    }

    // Crashes: the named points, then random ones (step and request drawn from the seed).
    const points: CrashPoint[] = [...CRASH_POINTS[cls]];
    const rnd = mulberry32(seed0 * 7919 + cls.length);
    for (let i = 0; i < crashes; i++) {
      const step = Math.floor(rnd() * clean.requestsPerStep.length);
      const n = 1 + Math.floor(rnd() * (clean.requestsPerStep[step] ?? 1));
      const when = rnd() < 0.5 ? 'before' : 'after';
      points.push({ name: `random: step ${step + 1}, request ${n}`, step, when, at: (r) => r.stepSeq === n });
    }
    for (const p of points) {
      const r = await runWithCrash(scenario, emulator.endpoint, admin, p);
      const converged = stableJson(r.state) === reference;
      crashRows.push({
        class: cls,
        point: p.name,
        when: p.when,
        crashedAt: r.crashedAt ? `${r.crashedAt.operation} #${r.crashedAt.stepSeq}` : undefined,
        rerunOk: r.rerun.ok,
        converged,
        orphansAfterCrash: r.orphansAfterCrash.map((o) => `${o.kind}: ${o.reason}`),
        orphansAtEnd: r.orphansAtEnd.length,
        ...(converged ? {} : { difference: stateDiff(clean.state, r.state) }),
      });
      const last = crashRows.at(-1) as CrashRow;
      console.log(
        `${cls} crash ${p.name} (${p.when}) at ${last.crashedAt ?? 'never reached'}: rerun ${last.rerunOk ? 'ok' : `FAILED ${r.rerun.error}`}, ${converged ? 'converged' : `DIFFERS ${last.difference}`}, orphans after crash ${last.orphansAfterCrash.length}, at end ${last.orphansAtEnd}`,
      );
    }
  }
} finally {
  await closeProxies();
  await emulator.stop();
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
console.log(
  '\n| class | faults | rate | runs | requests | faults injected | retries seen | re-invoked | outcome |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of faultRows) {
  console.log(
    `| ${r.class} | ${r.kinds} | ${r.rate} | ${r.runs} | ${r.requests} | ${r.faults} (${pct(r.faults, r.requests)}) | ${r.retries} | ${r.reinvoked} | ${r.converged}/${r.runs} converged |`,
  );
}
console.log(
  '\n| class | crash point | when | crashed at | rerun | end state | orphans reported after crash | left at end |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const c of crashRows) {
  console.log(
    `| ${c.class} | ${c.point} | ${c.when} | ${c.crashedAt ?? 'not reached'} | ${c.rerunOk ? 'ok' : 'failed'} | ${c.converged ? 'converged' : 'differs'} | ${c.orphansAfterCrash.length ? c.orphansAfterCrash.join('; ') : '0'} | ${c.orphansAtEnd} |`,
  );
}
const seconds = Math.round((Date.now() - t0) / 1000);
console.log(`\n${seconds}s in all`);
writeFileSync(
  String(values.out),
  `${JSON.stringify({ args: values, seconds, faults: faultRows, crashes: crashRows }, null, 1)}\n`,
);
