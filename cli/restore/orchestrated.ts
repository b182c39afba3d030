// `kura restore start|status|list|approve`: the orchestrated restore for
// on-call engineers. Builds the request (flags or --request file.json),
// validates it and runs the pre-flight (read-only), shows the plan, asks,
// then runs the restore state machine on AWS or --local, showing each step.
// Each command lives in orchestrated/.
import type { Command } from 'commander';
import { registerStart } from './orchestrated/start.ts';
import { registerList, registerStatus } from './orchestrated/status.ts';
import { registerApprove } from './orchestrated/approve.ts';

export function registerOrchestratedRestore(restore: Command): void {
  registerStart(restore);
  registerStatus(restore);
  registerList(restore);
  registerApprove(restore);
}
