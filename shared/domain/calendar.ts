// Moved to shared/policy/calendar.ts (the policy's own time arithmetic, below
// domain). Only shared/restore/request.ts and logs.ts (another branch's files)
// still import it from here; switch them and delete this file.
export * from '../policy/calendar.ts';
