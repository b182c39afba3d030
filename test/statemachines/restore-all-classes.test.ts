// The restore state machine, run locally through the same ASL file, against
// moto: a week of backups of every class made by the real handlers (database
// snapshots, server images, content generations, archived and bundled logs),
// then one request that restores all four classes at one point in time in the
// middle of that week, into the isolated account.

import { S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRestoreLocally } from '../../local/restore.ts';
import { S3RestoreStore } from '../../shared/aws/restore-store.ts';
import { localDate } from '../../shared/policy/calendar.ts';
import type { ReportItem, RestoreReport } from '../../shared/restore/plan.ts';
import { type World, world } from '../support/all-classes.ts';
import { clock } from '../support/emulator.ts';
import { bytesOf, keys } from '../support/logs.ts';

let w: World;

beforeAll(async () => {
  w = await world();
}, 300_000);

describe('restore state machine (local), every class at one point in time', () => {
  it('restores database, server, content and logs from the points closest before `at` when a request names them all', async () => {
    // Prepare: `at` falls between the third and the fourth day's backups.
    const chosen = 2;
    const t = w.times[chosen] as Date;
    const at = new Date(t.getTime() + 2 * 3600_000).toISOString();
    const atDay = localDate(t, w.deps.policy.timezone);
    const from = `${w.bundledMonth}-10`;
    const request = {
      reason: 'rehearse: everything as it was mid-week',
      ticket: 'INC-ALL-1',
      at,
      database: { instance: w.db },
      instances: [{ instance: w.instance }],
      content: [{ source: w.contentName }, { source: w.contentName, prefix: 'uploads/' }],
      logs: [{ class: 'access', host: w.host, from }],
    };

    // Act
    clock.set(new Date()); // the restore runs now, after the backups
    const out = await runRestoreLocally(request, { deps: w.deps });

    // Assess: it finished, and every class came from the point closest at or before `at`.
    expect(out.status, out.cause).toBe('SUCCEEDED');
    const { requestId } = out.output as { requestId: string };
    const store = new S3RestoreStore(w.clients, w.deps.policy.vault.bucket);
    const report = await store.get<RestoreReport>(requestId, 'report.json');
    if (!report) throw new Error(`no report under restores/${requestId}/`);
    expect(report.status).toBe('SUCCEEDED');
    expect(report.at).toBe(at);
    const byClass = Object.fromEntries(report.items.map((i) => [i.class, i]));
    expect(report.items.map((i) => i.class).sort()).toEqual([
      'content',
      'content',
      'database',
      'image',
      'logs',
    ]);
    expect(byClass.database?.recoveryPoint.time).toBe(t.toISOString());
    expect(byClass.image?.recoveryPoint.time).toBe(t.toISOString());
    for (const c of report.items.filter((i) => i.class === 'content'))
      expect(c.recoveryPoint).toEqual({ id: atDay, time: t.toISOString() });
    // Logs: the archived day that covers `at` (loose: recent logs are not bundled yet).
    expect(byClass.logs?.recoveryPoint.id).toBe(`logs/access/${w.host}/${atDay}/`);
    expect(Date.parse(byClass.logs?.recoveryPoint.time ?? '')).toBeLessThanOrEqual(Date.parse(at));
    for (const i of report.items) {
      expect(i.status, `${i.class}: ${i.error}`).toBe('done');
      expect(i.recoveryPoint.id).toBeTruthy();
      expect(i.durationSeconds).toEqual(expect.any(Number));
      expect(i.resources.length, i.class).toBeGreaterThan(0);
      for (const r of i.resources) expect(report.cleanup).toContain(r.cleanup);
    }
    expect(report.phases.map((p) => p.phase)).toEqual(['database', 'servers', 'content', 'logs']);
    const md = await store.get<string>(requestId, 'report.md');
    expect(md).toContain('## Clean up');

    // The content: byte for byte the source as it was on the chosen day (all of it, and only uploads/).
    const s3 = w.isolated.get(S3Client);
    const where = (i: ReportItem) => {
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(i.endpoint ?? '');
      if (!m) throw new Error(`${i.key}: endpoint ${i.endpoint}`);
      return { bucket: m[1] as string, prefix: m[2] as string };
    };
    const asOfDay = w.sourceByDay[chosen] as Map<string, Buffer>;
    const [whole, part] = report.items
      .filter((i) => i.class === 'content')
      .sort((a, b) => a.key.length - b.key.length)
      .map(where) as [{ bucket: string; prefix: string }, { bucket: string; prefix: string }];
    const { bucket } = whole;
    expect((await keys(s3, bucket, whole.prefix)).map((k) => k.slice(whole.prefix.length))).toEqual(
      [...asOfDay.keys()].sort(),
    );
    for (const [key, body] of asOfDay)
      expect((await bytesOf(s3, bucket, whole.prefix + key)).equals(body), key).toBe(true);
    expect(part.prefix.endsWith('/uploads/')).toBe(true);
    const base = part.prefix.slice(0, -'uploads/'.length);
    expect((await keys(s3, part.bucket, base)).map((k) => k.slice(base.length))).toEqual(
      [...asOfDay.keys()].filter((k) => k.startsWith('uploads/')).sort(),
    );

    // The logs: every file of [from, day of `at`], loose or bundled, and nothing after.
    const logsPrefix = `kura-restore/logs/${requestId}/access/${w.host}/`;
    expect(byClass.logs?.endpoint).toBe(`s3://${bucket}/${logsPrefix}`);
    const wantDays = [...w.logs.keys()].filter((d) => d >= from && d <= atDay).sort();
    const gotLogs = await keys(s3, bucket, logsPrefix);
    expect(gotLogs).toEqual(wantDays.map((d) => `${logsPrefix}${d}/${w.logs.get(d)?.file}`));
    for (const d of wantDays)
      expect((await bytesOf(s3, bucket, `${logsPrefix}${d}/${w.logs.get(d)?.file}`)).toString()).toBe(
        w.logs.get(d)?.body,
      );
  });
});
