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
});
