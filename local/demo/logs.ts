// Demo step (logs class): two hosts drop rotated logs into the landing bucket
// every night for about three months; log-archive runs at its daily time and
// log-bundle on the 1st of each month, by the policy's schedules. A malformed
// key and an unknown class are left in landing and reported. Then a restore of
// a range that spans a bundled month and loose days, checked byte for byte,
// and the lifecycle rules the policy puts on the vault.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { logArchive as archive, logBundle as bundle } from '../iam/functions.ts';
import { readBucketLifecycle } from '../../shared/aws/bucket-lifecycle.ts';
import { LocalDirSink } from '../../shared/aws/log-sinks.ts';
import { S3LogStore } from '../../shared/aws/log-store.ts';
import { lifecycleReport } from '../../shared/domain/lifecycle/report.ts';
import { splitS3Url } from '../../shared/domain/logs/keys.ts';
import { addMonths } from '../../shared/domain/logs/months.ts';
import { occurrences } from '../../shared/domain/schedule-occurrences.ts';
import { addDays, daysBetween, localDate } from '../../shared/policy/calendar.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import { executeLogRestore, planLogRestore } from '../../shared/restore/log-files.ts';
import { ensureVault } from '../vault.ts';
import type { DemoStep } from './types.ts';
import { sealedLogStore } from '../../shared/aws/seals.ts';

const STREAMS = [
  { host: 'web-1', logClass: 'access', name: 'access.log' },
  { host: 'web-1', logClass: 'system', name: 'messages' },
  { host: 'app-1', logClass: 'application', name: 'app.log' },
];

function logText(host: string, logClass: string, day: string): string {
  const lines: string[] = [];
  for (let i = 0; i < 120; i++) {
    lines.push(
      logClass === 'access'
        ? `203.0.113.${i % 250} - - [${day}T${String(i % 24).padStart(2, '0')}:00:${String(i % 60).padStart(2, '0')}+09:00] "GET /items/${i * 31} HTTP/1.1" 200 ${512 + i}`
        : `${day} ${String(i % 24).padStart(2, '0')}:00:00 ${host} ${logClass === 'system' ? 'kernel' : 'app'}[${1000 + i}]: event ${i}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export const logsDemo: DemoStep = {
  title: 'Logs: daily shipping from landing, monthly verified bundles, restore of a range',
  async run(ctx) {
    const { policy, clients } = ctx.deps;
    const logs = policy.logs;
    const expArchive = policy.schedules['log-archive'];
    const expBundle = policy.schedules['log-bundle'];
    if (!logs || !expArchive || !expBundle)
      return { ok: true, summary: 'no logs section or schedules in the policy' };
    const s3 = clients.get(S3Client);
    const landing = splitS3Url(logs.landing);
    await ensureVault(clients, policy);
    await s3
      .send(
        new CreateBucketCommand({
          Bucket: landing.bucket,
          CreateBucketConfiguration: { LocationConstraint: clients.region as 'ap-northeast-1' },
        }),
      )
      .catch((e: Error) => {
        if (!/BucketAlready/.test(e.name)) throw e;
      });

    // From the 20th of the month three months before the last log-bundle run
    // (not before ctx.to: on the 1st, before the bundle's hour, this month's run
    // has not come yet): that run bundles the first month's last days, the
    // months after stay loose.
    const tz = policy.timezone;
    const lastBundle = occurrences(expBundle, tz, addDays(ctx.to, -62), ctx.to).at(-1) ?? ctx.to;
    const start = new Date(`${addMonths(localDate(lastBundle, tz).slice(0, 7), -3)}-20T00:00:00Z`);
    const runs = [
      ...occurrences(expArchive, tz, start, ctx.to).map((t) => ({ t, fn: 'log-archive' as const })),
      ...occurrences(expBundle, tz, start, ctx.to).map((t) => ({ t, fn: 'log-bundle' as const })),
    ].sort((a, b) => a.t.getTime() - b.t.getTime());
    ctx.log(
      `hosts web-1 (access, system) and app-1 (application) ship rotated logs to ${logs.landing} nightly, ${localDate(start, tz)} to ${localDate(ctx.to, tz)}`,
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: landing.bucket,
        Key: `${landing.prefix}web-1/access.log-stray`,
        Body: 'x\n',
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: landing.bucket,
        Key: `${landing.prefix}web-1/audit/audit.log`,
        Body: 'x\n',
      }),
    );

    const perMonth = new Map<string, { archived: number; runs: number; failed: number }>();
    const bundleRows: Record<string, unknown>[] = [];
    let failures = 0;
    let lastWarnings: string[] = [];
    for (const { t, fn } of runs) {
      if (fn === 'log-archive') {
        const yesterday = localDate(addDays(t, -1), tz);
        for (const s of STREAMS) {
          await s3.send(
            new PutObjectCommand({
              Bucket: landing.bucket,
              Key: `${landing.prefix}${s.host}/${s.logClass}/${s.name}-${yesterday.replace(/-/g, '')}`,
              Body: logText(s.host, s.logClass, yesterday),
            }),
          );
        }
        ctx.clock.set(t);
        const r = await archive(syntheticScheduledEvent(t), ctx.deps);
        const m = localDate(t, tz).slice(0, 7);
        const row = perMonth.get(m) ?? { archived: 0, runs: 0, failed: 0 };
        row.runs++;
        row.archived += Number(r.moved ?? 0);
        if (!r.ok) {
          row.failed++;
          failures++;
        }
        perMonth.set(m, row);
        lastWarnings = r.warnings;
      } else {
        ctx.clock.set(t);
        const r = await bundle(syntheticScheduledEvent(t), ctx.deps);
        if (!r.ok) failures++;
        for (const x of r.targets) {
          bundleRows.push({
            run: localDate(t, tz),
            'bundles before': r.bundlesBefore,
            'class/host/month': x.target,
            status: x.status,
            files: x.members ?? '',
            'bytes in': x.bytesIn ?? '',
            'bytes out': x.bytesOut ?? '',
          });
        }
      }
    }
    ctx.log('daily log-archive runs, per month:');
    ctx.table(
      [...perMonth].map(([month, r]) => ({
        month,
        runs: r.runs,
        'files moved': r.archived,
        'failed runs': r.failed,
      })),
    );
    ctx.log(
      'monthly log-bundle runs (tar.gz per class, host and month, verified against its manifest before originals go):',
    );
    ctx.table(bundleRows);
    ctx.log('reported and left in landing:');
    for (const w of lastWarnings) ctx.log(`  ${w}`);

    // Restore a range across the newest bundled month's end and the loose days after it.
    const bundledMonth = String(
      bundleRows.filter((r) => String(r['class/host/month']).startsWith('access/'))?.at(-1)?.[
        'class/host/month'
      ] ?? '',
    ).slice(-7);
    let restoredOk = false;
    if (bundledMonth) {
      const from = `${bundledMonth}-26`;
      const to = `${addMonths(bundledMonth, 1)}-05`;
      const dir = mkdtempSync(join(tmpdir(), 'kura-demo-logs-'));
      const store = new S3LogStore(clients);
      const plan = await planLogRestore(policy, sealedLogStore(store, policy.vault.bucket), {
        logClass: 'access',
        host: 'web-1',
        from,
        to,
      });
      const summary = await executeLogRestore(policy, store, plan, new LocalDirSink(dir));
      const day = `${bundledMonth}-28`;
      const sample = readFileSync(
        join(dir, 'access/web-1', day, `access.log-${day.replace(/-/g, '')}`),
        'utf8',
      );
      // One file a day, from the 26th to the 5th: 10 or 11 days, by the month's length.
      const days = daysBetween(new Date(from), new Date(to)) + 1;
      restoredOk = sample === logText('web-1', 'access', day) && summary.files === days;
      ctx.log(`restore logs --class access --host web-1 --from ${from} --to ${to} --dest ${dir}:`);
      ctx.table([
        {
          files: summary.files,
          'from bundles': summary.fromBundles,
          loose: summary.fromLoose,
          bytes: summary.bytes,
          seconds: summary.durationSeconds,
          'byte-identical': restoredOk,
        },
      ]);
    }

    const rep = lifecycleReport(policy, new Date(), await readBucketLifecycle(clients, policy.vault.bucket));
    ctx.log('vault lifecycle rules for logs (kura report lifecycle):');
    ctx.table(
      rep.classes
        .filter((c) => c.name.startsWith('logs: '))
        .flatMap((c) =>
          c.rules.map((r) => ({
            rule: r.id,
            'size >': r.minSizeBytes ?? '',
            transitions: r.transitions.join(' '),
            expire: r.expirationDays ?? '',
            'on bucket': r.onBucket,
          })),
        ),
    );
    const stillInLanding = lastWarnings.length === 2;
    return {
      ok: failures === 0 && restoredOk && stillInLanding,
      summary: `${bundleRows.length} bundle(s), ${[...perMonth.values()].reduce((n, r) => n + r.archived, 0)} files shipped, ${failures} failed runs; 2 bad keys left in landing; restore ${restoredOk ? 'byte-identical' : 'FAILED'}`,
    };
  },
};
