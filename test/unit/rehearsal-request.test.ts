// The yearly rehearsal's restore request (what schedules.rehearsal sends the
// restore machine): no items of its own, one point in time, and its id (also
// its report's run id) from that time; anything else is refused by name.
import { describe, expect, it } from 'vitest';
import { rehearsalRequest, scheduleTarget } from '../../shared/domain/schedules.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import { parseRestoreRequest } from '../../shared/restore/request.ts';
import { InputError } from '../../shared/runtime/errors.ts';

const NOW = new Date('2027-02-15T01:00:30Z');
const policy = loadPolicy();

function problems(raw: unknown): string[] {
  try {
    parseRestoreRequest(raw, policy, NOW);
    return [];
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
}

describe('the yearly rehearsal request', () => {
  it('takes its id from its time and lists no items: the plan adds every class', () => {
    // Act
    const r = parseRestoreRequest(rehearsalRequest('2027-02-15T01:00:00Z'), policy, NOW);

    // Assess
    expect(r.id).toBe('rehearsal-202702150100');
    expect(r.rehearsal).toBe(true);
    expect(r.reason).toBe('yearly rehearsal');
    expect(r.items).toEqual([]);
  });

  it('is what the schedule sends the restore machine, with the scheduled time', () => {
    expect(scheduleTarget('rehearsal')).toEqual({
      machine: 'restore',
      input: {
        request: { reason: 'yearly rehearsal', rehearsal: true, at: '<aws.scheduler.scheduled-time>' },
      },
    });
  });

  it('refuses items, a missing time and an id that is not a rehearsal id, each by name', () => {
    expect(
      problems({ ...rehearsalRequest('2027-02-15T01:00:00Z'), database: { instance: 'shop-db' } }),
    ).toEqual([expect.stringContaining('rehearsal: true lists no database, instances, content or logs')]);
    expect(problems({ reason: 'yearly rehearsal', rehearsal: true })).toEqual([
      'request: rehearsal: true needs "at"; expected the one point in time to restore',
    ]);
    expect(problems({ ...rehearsalRequest('2027-02-15T01:00:00Z'), id: 'inc-4711' })).toEqual([
      expect.stringContaining(
        'request: id: found "inc-4711"; expected a rehearsal id starting with "rehearsal-"',
      ),
    ]);
  });

  it('leaves an on-call request and its id as they were', () => {
    const r = parseRestoreRequest(
      { reason: 'ticket 42 shop', database: { instance: 'shop-db', snapshot: 'latest' } },
      policy,
      NOW,
    );
    expect(r.rehearsal).toBeUndefined();
    expect(r.id).toMatch(/^rq-[0-9a-f]{12}$/);
    expect(problems({ reason: 'ticket 42 shop' })).toEqual([
      'request: nothing to restore; expected at least one of database, instances, content, logs',
    ]);
  });
});
