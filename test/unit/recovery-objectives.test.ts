// Recovery objectives from the real sources (PITR, newest generation or
// bundle, restore time), each against its target; and the history's charts of
// achieved RPO and restore time per class. Pure.
import { describe, expect, it } from 'vitest';
import { itemObjectives } from '../../shared/domain/recovery-objectives.ts';
import { historyHtml, validationHistory } from '../../shared/domain/reports/validation-history.ts';
import { buildReport, type ItemOutcome, serializeReport } from '../../shared/domain/validation-report.ts';
import { loadPolicy } from '../../shared/policy/load.ts';

const policy = loadPolicy();
const RUN = '2026-12-01T00:00:00.000Z';

describe('recovery objectives', () => {
  it('measures the database RPO from LatestRestorableTime against database.rpoMinutes, with the snapshot age beside it', () => {
    // Act
    const ok = itemObjectives(policy, {
      class: 'database',
      runTime: RUN,
      recoveryPointAgeMinutes: 300,
      latestRestorableTime: '2026-11-30T23:56:00.000Z',
      restore: { durationSeconds: 1260, rtoMinutes: 30 },
    });
    const late = itemObjectives(policy, {
      class: 'database',
      runTime: RUN,
      recoveryPointAgeMinutes: 300,
      latestRestorableTime: '2026-11-30T23:30:00.000Z',
    });

    // Assess
    expect(
      ok.map((o) => [o.objective, o.basis.split(' (')[0], o.achievedMinutes, o.targetMinutes, o.status]),
    ).toEqual([
      ['RPO', 'point-in-time recovery', 4, policy.database?.rpoMinutes, 'pass'],
      ['RPO', 'snapshot age', 300, undefined, 'info'],
      ['RTO', 'restore time', 21, 30, 'pass'],
    ]);
    expect(late[0]).toMatchObject({ achievedMinutes: 30, status: 'fail' });
    expect(late[0]?.detail).toContain('over the target');
  });

  it('says the PITR RPO is unknown when the source has no LatestRestorableTime, never a pass', () => {
    const out = itemObjectives(policy, { class: 'database', runTime: RUN, recoveryPointAgeMinutes: 60 });
    expect(out[0]?.status).toBe('unknown');
    expect(out[0]?.detail).toContain('no LatestRestorableTime');
  });

  it('judges content by its newest generation against the daily schedule, and fails a missed day', () => {
    const fresh = itemObjectives(policy, { class: 'content', runTime: RUN, recoveryPointAgeMinutes: 210 });
    const missed = itemObjectives(policy, { class: 'content', runTime: RUN, recoveryPointAgeMinutes: 1650 });
    expect(fresh[0]).toMatchObject({ objective: 'RPO', targetMinutes: 1440, status: 'pass' });
    expect(missed[0]).toMatchObject({ status: 'fail' });
  });

  it('warns in the report when an RPO objective fails', () => {
    const item: ItemOutcome = {
      class: 'database',
      source: 'shop-db',
      status: 'pass',
      checks: [],
      cleanup: { status: 'done', resources: [] },
      restore: { startedAt: RUN, finishedAt: RUN, durationSeconds: 600, rtoMinutes: 30, withinRto: true },
      objectives: itemObjectives(policy, {
        class: 'database',
        runTime: RUN,
        latestRestorableTime: '2026-11-30T22:00:00.000Z',
      }),
    };
    const report = buildReport({
      runId: '202612010000',
      time: RUN,
      generatedAt: RUN,
      region: 'ap-northeast-1',
      configured: { database: true, image: false, content: false, logs: false },
      items: [item],
      leftovers: [],
      problems: [],
      previous: null,
    });
    expect(report.warnings).toContain(
      'database shop-db: RPO point-in-time recovery (run time minus LatestRestorableTime): 120 min (target 5 min): over the target',
    );
  });
});

describe('validation history charts', () => {
  it('plots achieved RPO and restore time per class for every run', () => {
    // Prepare: two runs, one database and one content item each
    const bodies = ['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'].map((time, n) => {
      const items: ItemOutcome[] = [
        {
          class: 'database',
          source: 'shop-db',
          status: 'pass',
          checks: [],
          cleanup: { status: 'done', resources: [] },
          achievedRpoMinutes: 300,
          restore: {
            startedAt: time,
            finishedAt: time,
            durationSeconds: 1200 + n * 600,
            rtoMinutes: 30,
            withinRto: true,
          },
          objectives: itemObjectives(policy, {
            class: 'database',
            runTime: time,
            latestRestorableTime: new Date(new Date(time).getTime() - (3 + n) * 60_000).toISOString(),
          }),
        },
        {
          class: 'content',
          source: 'app1-images',
          status: 'pass',
          checks: [],
          cleanup: { status: 'done', resources: [] },
          achievedRpoMinutes: 210,
          restore: {
            startedAt: time,
            finishedAt: time,
            durationSeconds: 120,
            rtoMinutes: 30,
            withinRto: true,
          },
        },
      ];
      return serializeReport(
        buildReport({
          runId: `2026${11 + n}010000`,
          time,
          generatedAt: time,
          region: 'ap-northeast-1',
          configured: { database: true, image: false, content: true, logs: false },
          items,
          leftovers: [],
          problems: [],
          previous: null,
        }),
      );
    });

    // Act
    const h = validationHistory(
      bodies.map((body, i) => ({ key: `reports/validation/${i}/report.json`, body })),
      new Date('2026-12-02T00:00:00Z'),
    );
    const html = historyHtml(h);

    // Assess: the database's RPO is the PITR figure, not the snapshot age
    expect(h.runs.map((r) => r.perClass.database)).toEqual([
      { rpoMinutes: 3, restoreMinutes: 20 },
      { rpoMinutes: 4, restoreMinutes: 30 },
    ]);
    expect(h.runs[0]?.perClass.content).toEqual({ rpoMinutes: 210, restoreMinutes: 2 });
    expect(html).toContain('<svg id="rpo"');
    expect(html).toContain('<svg id="restore-time"');
    expect(html).toContain('202612010000 database: achieved RPO 4 min');
    expect(html).toContain('202611010000 content: restore time 2 min');
  });
});
