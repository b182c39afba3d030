// Runs only the content demo step on a fresh emulator (for development; `kura demo` runs all steps).

import { contentDemo } from '../../local/demo/content.ts';
import { formatTable } from '../../local/demo/format.ts';
import { startEmulator, useEmulator } from '../../local/emulator.ts';
import { Clients } from '../../shared/aws/clients.ts';
import { addDays } from '../../shared/domain/calendar.ts';
import { loadPolicy } from '../../shared/policy/load.ts';

const emulator = await startEmulator();
useEmulator(emulator.endpoint);
try {
  const policy = loadPolicy();
  const to = new Date();
  const out = await contentDemo.run({
    deps: { policy, clients: new Clients({ region: policy.region }) },
    from: addDays(to, -Number(process.argv[2] ?? 21)),
    to,
    log: (l) => console.log(`  ${l}`),
    table: (rows) => console.log(formatTable(rows)),
  });
  console.log(out);
} finally {
  await emulator.stop();
}
