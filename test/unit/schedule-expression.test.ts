import { describe, expect, it } from 'vitest';
import { occurrences } from '../../shared/domain/schedule-occurrences.ts';
import { scheduleExpressionProblem } from '../../shared/policy/schedule-expression.ts';

describe('EventBridge schedule expressions', () => {
  it.each([
    'cron(0 4 * * ? *)',
    'cron(30 5 * * ? *)',
    'cron(0 3 1 * ? *)',
    'cron(0 4 ? * SUN *)',
    'cron(0/15 * ? * MON-FRI *)',
    'cron(0 9 L * ? 2027)',
    'rate(5 minutes)',
    'at(2026-12-01T09:00:00)',
  ])('accepts %s', (expr) => {
    expect(scheduleExpressionProblem(expr)).toBeUndefined();
  });

  it.each([
    ['cron(0 4 * * * *)', 'exactly one of day-of-month and day-of-week'],
    ['cron(60 4 * * ? *)', 'minutes "60" is outside 0-59'],
    ['cron(0 4 * 13 ? *)', 'month "13" is outside 1-12'],
    ['cron(0 4 ? * FUNDAY *)', 'day-of-week "FUNDAY"'],
    ['cron(0 4 * * ?)', 'cron needs 6 fields'],
    ['0 4 * * *', 'expected cron('],
    ['rate(0 days)', 'rate must be positive'],
  ])('rejects %s', (expr, reason) => {
    expect(scheduleExpressionProblem(expr)).toContain(reason);
  });

  it('fires at 05:30 Tokyo time, which is 20:30 UTC the day before', () => {
    const fires = occurrences(
      'cron(30 5 * * ? *)',
      'Asia/Tokyo',
      new Date('2026-11-01T00:00:00Z'),
      new Date('2026-11-04T00:00:00Z'),
    );
    expect(fires.map((d) => d.toISOString())).toEqual([
      '2026-11-01T20:30:00.000Z',
      '2026-11-02T20:30:00.000Z',
      '2026-11-03T20:30:00.000Z',
    ]);
  });

  it('reads day-of-week 1 as Sunday, as EventBridge does', () => {
    const fires = occurrences(
      'cron(0 12 ? * 1 *)',
      'UTC',
      new Date('2026-11-01T00:00:00Z'),
      new Date('2026-11-15T00:00:00Z'),
    );
    expect(fires.map((d) => d.getUTCDay())).toEqual([0, 0]);
  });

  it('fires on the 1st of each month for the monthly jobs', () => {
    const fires = occurrences(
      'cron(0 3 1 * ? *)',
      'Asia/Tokyo',
      new Date('2026-10-15T00:00:00Z'),
      new Date('2027-01-15T00:00:00Z'),
    );
    expect(fires.map((d) => d.toLocaleDateString('sv-SE', { timeZone: 'Asia/Tokyo' }))).toEqual([
      '2026-11-01',
      '2026-12-01',
      '2027-01-01',
    ]);
  });

  it('honours the year field: cron(0 9 L * ? 2027) fires on the last day of each month of 2027 only', () => {
    const fires = occurrences(
      'cron(0 9 L * ? 2027)',
      'UTC',
      new Date('2026-11-01T00:00:00Z'),
      new Date('2028-03-01T00:00:00Z'),
    );
    expect(fires.map((d) => d.toISOString().slice(0, 10))).toEqual([
      '2027-01-31',
      '2027-02-28',
      '2027-03-31',
      '2027-04-30',
      '2027-05-31',
      '2027-06-30',
      '2027-07-31',
      '2027-08-31',
      '2027-09-30',
      '2027-10-31',
      '2027-11-30',
      '2027-12-31',
    ]);
  });

  it('reads a start with a step (0/15) and weekday names, Monday being 2', () => {
    const fires = occurrences(
      'cron(0/15 9 ? * MON-FRI *)',
      'UTC',
      new Date('2026-11-27T00:00:00Z'), // a Friday
      new Date('2026-12-01T00:00:00Z'),
    );
    expect(fires.map((d) => d.toISOString())).toEqual([
      '2026-11-27T09:00:00.000Z',
      '2026-11-27T09:15:00.000Z',
      '2026-11-27T09:30:00.000Z',
      '2026-11-27T09:45:00.000Z',
      '2026-11-30T09:00:00.000Z',
      '2026-11-30T09:15:00.000Z',
      '2026-11-30T09:30:00.000Z',
      '2026-11-30T09:45:00.000Z',
    ]);
  });

  // EventBridge Scheduler: "When the time shifts forward in Spring, your schedule invocation
  // gets skipped if the cron expression falls on a non-existent date and time. When the time
  // shifts back in the Fall, your schedule runs only once and doesn't repeat its invocation."
  it('skips a firing that the spring change removes (02:30 New York on 8 March 2026)', () => {
    const fires = occurrences(
      'cron(30 2 * * ? *)',
      'America/New_York',
      new Date('2026-03-07T00:00:00Z'),
      new Date('2026-03-10T00:00:00Z'),
    );
    expect(fires.map((d) => d.toISOString())).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
  });

  it('fires once in the hour that the autumn change repeats (01:xx New York on 1 November 2026)', () => {
    const fires = occurrences(
      'cron(0/30 1 * * ? *)',
      'America/New_York',
      new Date('2026-11-01T04:00:00Z'),
      new Date('2026-11-01T08:00:00Z'),
    );
    expect(fires.map((d) => d.toISOString())).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T05:30:00.000Z',
    ]);
  });
});
