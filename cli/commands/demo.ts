// `kura demo`: the whole pipeline end to end on the embedded emulator.
import type { Command } from 'commander';
import { formatTable } from '../../local/demo/format.ts';
import { DEMO_STEPS } from '../../local/demo/index.ts';
import type { DemoStep } from '../../local/demo/types.ts';
import { startEmulator, useEmulator } from '../../local/emulator.ts';
import { SimulatedClock, shareClockAtExit } from '../../local/simulated-time.ts';
import { ensureVault } from '../../local/vault.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { addDays } from '../../shared/policy/calendar.ts';
import { InputError } from '../../shared/runtime/errors.ts';
import { commandPolicy, confirmChange } from '../support/context.ts';

/** A step's short name: the title up to its colon, lower case (database, images, …). */
const stepName = (s: DemoStep) => (s.title.split(':')[0] ?? s.title).trim().toLowerCase();

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run the whole pipeline over simulated days on the local emulator (started when no endpoint is set)',
    )
    .option('--days <n>', 'simulated days, ending today', '21')
    .option('--only <steps>', `comma-separated steps to run (${DEMO_STEPS.map(stepName).join(', ')})`)
    .option('-y, --yes', 'do not ask before writing to an endpoint you configured')
    .action(async (opts: { days: string; only?: string; yes?: boolean }, cmd: Command) => {
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 400)
        throw new InputError([`--days: found "${opts.days}"; expected a whole number from 1 to 400`]);
      const only = opts.only?.split(',').map((s) => s.trim().toLowerCase());
      const unknown = only?.filter((o) => !DEMO_STEPS.some((s) => stepName(s) === o)) ?? [];
      if (unknown.length) {
        throw new InputError([
          `--only: unknown step(s) ${unknown.join(', ')}; expected ${DEMO_STEPS.map(stepName).join(', ')}`,
        ]);
      }
      const steps = DEMO_STEPS.filter((s) => !only || only.includes(stepName(s)));
      const policy = commandPolicy(cmd);
      let stop = async () => {};
      let endpoint = process.env.AWS_ENDPOINT_URL;
      if (endpoint) {
        await confirmChange(`demo creates resources at ${endpoint}`, opts.yes);
      } else {
        process.stderr.write("starting kura's emulator (moto's server with AWS timing) …\n");
        const emulator = await startEmulator();
        stop = emulator.stop;
        // Every request of the demo is checked against the deployed policies, as in the tests.
        process.stderr.write('packaging the template to check every request against its policies …\n');
        const { startDemoIamLayer } = await import('../../local/iam/demo.ts');
        try {
          const iam = await startDemoIamLayer(emulator.endpoint);
          useEmulator(iam.endpoint);
          endpoint = iam.endpoint;
          stop = async () => {
            const r = iam.summary();
            process.stderr.write(
              `\nIAM: ${r.requests} requests checked against the deployed policies, ${r.refused.length} refused${r.expected ? ` (and ${r.expected} refused as the demo expects: the attacker's)` : ''} (journal: ${iam.journal})\n`,
            );
            for (const m of r.refused.slice(0, 20)) process.stderr.write(`  - ${m}\n`);
            if (r.refused.length) process.exitCode = 1;
            await iam.close();
            await emulator.stop();
          };
        } catch (err) {
          await emulator.stop();
          throw err;
        }
        process.stderr.write(`emulator on ${emulator.endpoint}, behind the IAM front layer\n`);
      }
      const to = new Date();
      const from = addDays(to, -days);
      // Simulated time: each step sets it to the time of the run it makes, so the
      // emulator finishes snapshots, images and copies when AWS would.
      const clock = new SimulatedClock(from);
      shareClockAtExit(clock);
      const deps = {
        policy,
        clients: new Clients({ region: policy.region, ...clock.clientOptions(endpoint) }),
      };
      const summary: Record<string, unknown>[] = [];
      try {
        // The vault exists before the first backup, as on AWS (the stack creates it): the
        // backups record their sources' first points there from the first run on.
        await ensureVault(deps.clients, policy);
        for (const [i, step] of steps.entries()) {
          console.log(`\n== ${i + 1}/${steps.length} ${step.title}`);
          const started = Date.now();
          const out = await step.run({
            deps,
            clock,
            from,
            to,
            log: (l) => console.log(`  ${l}`),
            table: (rows) => console.log(formatTable(rows)),
          });
          summary.push({
            step: step.title.split(':')[0],
            ok: out.ok,
            seconds: ((Date.now() - started) / 1000).toFixed(1),
            summary: out.summary,
          });
        }
      } finally {
        await stop();
      }
      console.log('\n== summary');
      console.log(formatTable(summary));
      if (summary.some((s) => !s.ok)) process.exitCode = 1;
    });
}
