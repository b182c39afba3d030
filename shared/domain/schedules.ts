// Domain: the schedules the policy asks for, as EventBridge Scheduler
// definitions in the policy's time zone. The deployment template and
// `kura policy schedules` both read this; nothing is hand-copied.
import type { Policy, ScheduledTarget } from '../policy/schema.ts';
import { SCHEDULED_TARGETS } from '../policy/schema.ts';
import { REHEARSAL_REASON } from './validation-report/model.ts';

export interface ScheduleSpec {
  target: ScheduledTarget;
  kind: 'function' | 'stateMachine';
  expression: string;
  timezone: string;
}

// content-backup and log-bundle: Distributed Maps of shards and groups (statemachines/*.asl.yml), so a
// run is not one 15-minute function.
const STATE_MACHINE_TARGETS = new Set<ScheduledTarget>([
  'validation',
  'rehearsal',
  'content-backup',
  'log-bundle',
]);

/** EventBridge Scheduler puts the schedule's time here when it starts the target (context attributes). */
export const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

/**
 * The state machine a schedule starts and the input it adds to the scheduled
 * time: the yearly rehearsal is the orchestrated restore of every class at the
 * scheduled time (shared/restore/request.ts, `rehearsal: true`), which then
 * checks, cleans up and chains its report (statemachines/restore.asl.yml).
 */
export function scheduleTarget(target: ScheduledTarget): { machine: string; input: Record<string, unknown> } {
  return target === 'rehearsal'
    ? { machine: 'restore', input: { request: rehearsalRequest(SCHEDULED_TIME) } }
    : { machine: target, input: {} };
}

/** The restore request of the yearly rehearsal at `at` (its id: rehearsal-<yyyymmddHHMM>). */
export function rehearsalRequest(at: string): { reason: string; rehearsal: true; at: string } {
  return { reason: REHEARSAL_REASON, rehearsal: true, at };
}

export function schedulesFromPolicy(policy: Policy): ScheduleSpec[] {
  return SCHEDULED_TARGETS.flatMap((target) => {
    const expression = policy.schedules[target];
    if (!expression) return [];
    return [
      {
        target,
        kind: STATE_MACHINE_TARGETS.has(target) ? 'stateMachine' : 'function',
        expression,
        timezone: policy.timezone,
      },
    ];
  });
}
