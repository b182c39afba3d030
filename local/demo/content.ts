// Demo step (content class): two applications' uploaded images change, are
// added and deleted over the simulated days; the content-backup state machine
// makes one generation a day (copying only what changed); then an old
// generation is restored and proved byte- and metadata-identical to the
// source as it was that day, and the latest generation is verified.
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { S3ContentAdapter } from '../../shared/aws/content.ts';
import { ensureVault } from '../vault.ts';
import { contentSource, generationName } from '../../shared/domain/content.ts';
import { occurrences } from '../../shared/domain/schedule-occurrences.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { ContentRunResult } from '../../shared/usecases/content-backup.ts';
import { listGenerations } from '../../shared/aws/content-generations.ts';
import { restoreGeneration, verifyGeneration } from '../../shared/restore/content-generation.ts';
import { runStateMachine } from '../state-machine-runner.ts';
import type { DemoContext, DemoStep } from './types.ts';
import { vaultContent } from '../../shared/aws/content-generations.ts';

type Fingerprint = string;

async function ensureBucket(s3: S3Client, bucket: string, region: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: region as never },
      }),
    );
  }
}

/** Bytes (SHA-256), content type, user metadata and tags of one object, as one comparable string. */
async function fingerprint(s3: S3Client, bucket: string, key: string): Promise<Fingerprint> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return JSON.stringify({
    sha256: createHash('sha256').update(bytes).digest('base64'),
    type: got.ContentType,
    meta: Object.entries(got.Metadata ?? {}).sort(),
    tags: (tags.TagSet ?? []).map((t) => [t.Key, t.Value]).sort(),
  });
}

/** A fake image: a PNG signature and some bytes that depend on the name and version. */
function image(name: string, version: number): Buffer {
  const body = createHash('sha512').update(`${name}#${version}`).digest();
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), body, body]);
}

class Uploads {
  private next = 0;
  private versions = new Map<string, number>();
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  async put(name: string, day: number): Promise<void> {
    const v = (this.versions.get(name) ?? 0) + 1;
    this.versions.set(name, v);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.prefix + name,
        Body: image(name, v),
        ContentType: 'image/png',
        // What rclone/s3fs-style tools record for POSIX attributes.
        Metadata: { mode: '33188', uid: '1000', gid: '1000', mtime: String(1_763_000_000 + day * 86_400) },
        Tagging: `uploaded-by=user-${v}`,
      }),
    );
  }

  async seed(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.put(`user-${String(this.next++).padStart(4, '0')}.png`, 0);
  }

  /** One day of traffic: 2 images edited, 2 uploaded, 1 deleted. */
  async day(day: number): Promise<void> {
    const names = [...this.versions.keys()].sort();
    for (const i of [day * 7, day * 13 + 1]) await this.put(names[i % names.length] as string, day);
    for (let i = 0; i < 2; i++) await this.put(`user-${String(this.next++).padStart(4, '0')}.png`, day);
    const gone = names[(day * 5 + 3) % names.length] as string;
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + gone }));
    this.versions.delete(gone);
  }

  async state(): Promise<Map<string, Fingerprint>> {
    const out = new Map<string, Fingerprint>();
    for (const name of [...this.versions.keys()].sort())
      out.set(name, await fingerprint(this.s3, this.bucket, this.prefix + name));
    return out;
  }
}

export const contentDemo: DemoStep = {
  title:
    'Content: daily generations of uploaded images (only changes copied), restore of an old generation proved identical',
  async run(ctx: DemoContext) {
    const { policy, clients } = ctx.deps;
    const expr = policy.schedules['content-backup'];
    if (!expr || policy.content.length === 0)
      return { ok: true, summary: 'no content sources or schedule in the policy' };
    const s3 = clients.get(S3Client);
    const vault = await ensureVault(clients, policy);
    ctx.log(
      `vault s3://${vault.bucket}: versioned, Object Lock ${policy.vault.objectLock.mode} ${policy.vault.objectLock.days} days, SSE-KMS ${policy.vault.kmsKeyAlias}`,
    );
    const uploads = new Map<string, Uploads>();
    for (const c of policy.content) {
      const src = contentSource(c);
      await ensureBucket(s3, src.bucket, clients.region);
      const u = new Uploads(s3, src.bucket, src.prefix);
      await u.seed(40);
      uploads.set(c.name, u);
    }
    ctx.log(
      `sources: ${policy.content.map((c) => `${c.name} (${c.source}, 40 images)`).join(', ')}; each day 2 edited, 2 added, 1 deleted`,
    );

    const first = policy.content[0];
    if (!first) return { ok: true, summary: 'no content sources' };
    const states = new Map<string, Map<string, Fingerprint>>();
    const rows: Record<string, unknown>[] = [];
    let failures = 0;
    const times = occurrences(expr, policy.timezone, ctx.from, ctx.to);
    for (const [d, time] of times.entries()) {
      if (d > 0) for (const u of uploads.values()) await u.day(d);
      const generation = generationName(time, policy.timezone);
      states.set(generation, await (uploads.get(first.name) as Uploads).state());
      ctx.clock.set(time);
      const out = await runStateMachine('content-backup', syntheticScheduledEvent(time), { deps: ctx.deps });
      const result = (out.output as { result?: Pick<ContentRunResult, 'targets' | 'complete'> } | undefined)
        ?.result;
      if (out.status !== 'SUCCEEDED') failures++;
      const sum = (k: string) => (result?.targets ?? []).reduce((n, t) => n + Number(t[k] ?? 0), 0);
      rows.push({
        generation,
        slices: out.visited.filter((s) => s === 'Shard').length,
        objects: sum('objects'),
        copied: sum('copied'),
        unchanged: sum('unchanged'),
        deletedInSource: sum('deleted'),
        pruned: (result?.targets ?? []).reduce(
          (n, t) => n + ((t.pruned as string[] | undefined)?.length ?? 0),
          0,
        ),
        status: out.status,
      });
    }
    ctx.table(rows);

    const port = new S3ContentAdapter(clients);
    const kept = await listGenerations(port, policy, first.name);
    ctx.log(
      `${first.name}: ${kept.length} generations kept (policy: ${first.generations}): ${kept.join(', ')}`,
    );
    const old = kept[Math.min(3, kept.length - 1)];
    if (!old) return { ok: false, summary: 'no generation was written' };
    const restoreBucket = `kura-demo-restore-${Date.now().toString(36)}`;
    await ensureBucket(s3, restoreBucket, clients.region);
    const prefix = `${first.name}/${old}/`;
    const restored = await restoreGeneration(vaultContent(port, policy), port, policy, {
      source: first.name,
      generation: old,
      to: { bucket: restoreBucket, prefix },
    });
    const then = states.get(old) ?? new Map<string, Fingerprint>();
    const keys = (await port.listKeys(restoreBucket, prefix)).map((k) => k.slice(prefix.length)).sort();
    let identical = keys.length === then.size && keys.every((k) => then.has(k));
    for (const k of keys)
      if (then.get(k) !== (await fingerprint(s3, restoreBucket, prefix + k))) identical = false;
    const now = await (uploads.get(first.name) as Uploads).state();
    const differsFromToday =
      [...then.keys()].some((k) => now.get(k) !== then.get(k)) || now.size !== then.size;
    ctx.log(
      `restored ${first.name} generation ${old} (${restored.objects} objects, ${restored.bytes} bytes) to ${restored.to} in ${restored.durationSeconds}s: ` +
        `${identical ? 'byte- and metadata-identical to the source as it was that day' : 'DIFFERENT from the source that day'}` +
        `${differsFromToday ? ' (and different from today: it really is the past)' : ''}`,
    );
    const latest = kept[0] as string;
    const report = await verifyGeneration(vaultContent(port, policy), policy, {
      source: first.name,
      generation: latest,
    });
    ctx.log(
      `verify ${first.name} ${latest} --all: ${report.checked} objects re-read, ${report.failures.length} mismatches`,
    );
    return {
      ok: failures === 0 && identical && report.ok,
      summary: `${times.length} daily generations per source, ${failures} failed; ${old} restored ${identical ? 'identical' : 'NOT identical'}; latest verified ${report.ok ? 'ok' : 'FAILED'}`,
    };
  },
};
