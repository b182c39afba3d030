// Fault scenarios: one small, realistic history per backup class (several
// scheduled runs, so that copies and pruning happen), run through the fault
// proxy, and a normalised end state to compare with a clean run. Shared by the
// fault tests (reduced form) and bench/faults/run.ts (full form); imports no
// test runner, so the bench can use it as it is.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  S3Client,
  DeleteObjectCommand,
} from '@aws-sdk/client-s3';
import { amiBackup as amiRun } from '../support/functions.ts';
import { contentBackup as contentRun } from '../support/functions.ts';
import { logArchive as archiveRun } from '../support/functions.ts';
import { logBundle as bundleRun } from '../support/functions.ts';
import { rdsSnapshot as rdsRun } from '../support/functions.ts';
import { Clients } from '../../shared/aws/clients.ts';
import type { SimulatedClock } from '../../local/simulated-time.ts';
import { ensureVault } from '../../local/vault.ts';
import { fromTagList, type TagMap } from '../../shared/domain/tags.ts';
import { loadPolicy } from '../../shared/policy/load.ts';
import type { Policy } from '../../shared/policy/schema.ts';
import { syntheticScheduledEvent } from '../../shared/runtime/event.ts';
import type { RunResult } from '../../shared/runtime/result.ts';
import { createEstate, launch } from '../support/ec2-fixture.ts';
import { bytesOf as bytes, keys as listKeys } from '../support/logs.ts';
import { createDatabase } from '../support/rds.ts';

export type ClassName = 'database' | 'content' | 'logs' | 'image';
export type FunctionName = 'rds-snapshot' | 'content-backup' | 'log-archive' | 'log-bundle' | 'ami-backup';

const RUNNERS: Record<
  FunctionName,
  (event: unknown, deps: { policy: Policy; clients: Clients }) => Promise<unknown>
> = {
  'rds-snapshot': rdsRun,
  'content-backup': (e, d) => contentRun(e, d),
  'log-archive': archiveRun,
  'log-bundle': bundleRun,
  'ami-backup': amiRun,
};

export interface Step {
  fn: FunctionName;
  time: Date;
  detail?: Record<string, unknown>;
  /** Before the step, with clients straight to the emulator (no faults): what the world does between runs. */
  before?: (admin: Clients) => Promise<void>;
}

export interface World {
  /** Unique to this world; replaced by `<w>` in the normalised state. */
  suffix: string;
  policy: Policy;
  steps: Step[];
  /** The normalised end state: what a clean run and a faulty run must agree on. */
  state(admin: Clients): Promise<unknown>;
  /** Ids that must be replaced in the state for it to compare across worlds (instance ids, …). */
  aliases: Record<string, string>;
}

export interface Scenario {
  class: ClassName;
  /** Fresh resources (clients straight to the emulator). */
  setup(admin: Clients, suffix: string): Promise<World>;
}

export function basePolicy(suffix: string, overrides: (p: Policy) => void): Policy {
  const p = structuredClone(loadPolicy());
  p.selector = { tagKey: `kura:backup-${suffix}`, tagValue: 'true' };
  p.vault.bucket = `kura-vault-f-${suffix}`;
  p.vault.kmsKeyAlias = `alias/kura-vault-f-${suffix}`;
  overrides(p);
  return p;
}

function sha(b: Uint8Array | string): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}

async function createBucket(admin: Clients, bucket: string): Promise<void> {
  await admin.get(S3Client).send(
    new CreateBucketCommand({
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-1' },
    }),
  );
}

const KURA_TAG = /^kura:(managed|class|source|time|created-by|copy-of|reason)$/;
function kuraTags(tags: TagMap): TagMap {
  return Object.fromEntries(
    Object.entries(tags)
      .filter(([k]) => KURA_TAG.test(k) || ['Name', 'env', 'owner'].includes(k))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** JSON of `v` with every alias (and the world suffix) replaced, so that worlds compare. */
export function normalise(v: unknown, world: Pick<World, 'suffix' | 'aliases'>): unknown {
  let s = JSON.stringify(v);
  for (const [from, to] of Object.entries(world.aliases)) s = s.split(from).join(to);
  s = s.split(world.suffix).join('<w>');
  return JSON.parse(s);
}

const day = (d: string, hh = 19) => new Date(`${d}T${String(hh).padStart(2, '0')}:00:00Z`);

// ---------------------------------------------------------------- database
export const database: Scenario = {
  class: 'database',
  async setup(admin, suffix) {
    const policy = basePolicy(suffix, (p) => {
      if (!p.database) throw new Error('the reference policy has a database section');
      p.database.retainDays = 2;
      p.database.minGenerations = 2;
      p.database.copy = { region: 'ap-southeast-1' };
      p.database.shareWithIsolatedAccount = true;
    });
    const db = `shop-${suffix}`;
    await createDatabase(admin, db, { env: 'prod', owner: 'shop', [policy.selector.tagKey]: 'true' });
    const steps: Step[] = ['2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-05'].map((d) => ({
      fn: 'rds-snapshot' as const,
      time: day(d),
    }));
    return {
      suffix,
      policy,
      steps,
      aliases: {},
      async state(c) {
        const out: Record<string, unknown> = {};
        for (const region of ['ap-northeast-1', 'ap-southeast-1']) {
          const rds = c.get(RDSClient, region);
          const r = await rds.send(
            new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: db, SnapshotType: 'manual' }),
          );
          const snaps = [];
          for (const s of r.DBSnapshots ?? []) {
            const attrs = await rds.send(
              new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: s.DBSnapshotIdentifier }),
            );
            const shared =
              attrs.DBSnapshotAttributesResult?.DBSnapshotAttributes?.find(
                (a) => a.AttributeName === 'restore',
              )?.AttributeValues ?? [];
            snaps.push({
              id: s.DBSnapshotIdentifier,
              status: s.Status,
              tags: kuraTags(fromTagList(s.TagList)),
              // A set on AWS; moto appends an account added twice (a retried ModifyDBSnapshotAttribute).
              shared: [...new Set(shared)].sort(),
            });
          }
          out[region] = snaps.sort((a, b) => String(a.id).localeCompare(String(b.id)));
        }
        return out;
      },
    };
  },
};

// ---------------------------------------------------------------- content
export const content: Scenario = {
  class: 'content',
  async setup(admin, suffix) {
    const sourceBucket = `kura-src-f-${suffix}`;
    const name = `app-${suffix}`;
    const policy = basePolicy(suffix, (p) => {
      p.content = [{ name, source: `s3://${sourceBucket}/images/`, generations: 2 }];
    });
    await createBucket(admin, sourceBucket);
    await ensureVault(admin, policy);
    const s3 = admin.get(S3Client);
    const put = (k: string, body: string) =>
      s3.send(
        new PutObjectCommand({
          Bucket: sourceBucket,
          Key: `images/${k}`,
          Body: body,
          ContentType: 'image/png',
        }),
      );
    for (let i = 0; i < 12; i++) await put(`u${i % 3}/img-${i}.png`, `png-${i}-${'x'.repeat(i * 37)}`);
    const steps: Step[] = [
      { fn: 'content-backup', time: day('2026-10-01', 20), detail: { chunkKeys: 5 } },
      {
        fn: 'content-backup',
        time: day('2026-10-02', 20),
        detail: { chunkKeys: 5 },
        before: async () => {
          await put('u0/img-0.png', 'changed-0');
          await put('u1/new-a.png', 'new-a');
          await s3.send(new DeleteObjectCommand({ Bucket: sourceBucket, Key: 'images/u2/img-5.png' }));
        },
      },
      {
        fn: 'content-backup',
        time: day('2026-10-03', 20),
        detail: { chunkKeys: 5 },
        before: async () => {
          await put('u2/new-b.png', 'new-b');
        },
      },
    ];
    return {
      suffix,
      policy,
      steps,
      aliases: {},
      async state(c) {
        const s3c = c.get(S3Client);
        const vault = policy.vault.bucket;
        // Work files (checkpoint and parts) are scratch: a resumed run may write one more empty part.
        const objects: Record<string, string> = {};
        for (const k of await listKeys(s3c, vault, 'content/')) objects[k] = sha(await bytes(s3c, vault, k));
        const manifests: Record<string, unknown> = {};
        const others: string[] = [];
        for (const k of await listKeys(s3c, vault, policy.vault.manifestsPrefix)) {
          if (k.endsWith('.jsonl.gz') && k.includes('/generations/')) {
            const lines = gunzipSync(await bytes(s3c, vault, k))
              .toString('utf8')
              .split('\n')
              .filter(Boolean)
              .map((l) => JSON.parse(l) as { key: string; size: number; sha256: string });
            manifests[k] = lines.map((e) => [e.key, e.size, e.sha256]);
            const tagging = await s3c.send(new GetObjectTaggingCommand({ Bucket: vault, Key: k }));
            manifests[`${k}#tags`] = kuraTags(fromTagList(tagging.TagSet));
          } else if (!k.includes('/work/')) others.push(k);
        }
        return { objects, manifests, others };
      },
    };
  },
};

// ---------------------------------------------------------------- logs
export const logs: Scenario = {
  class: 'logs',
  async setup(admin, suffix) {
    const landing = `kura-landing-f-${suffix}`;
    const policy = basePolicy(suffix, (p) => {
      if (!p.logs) throw new Error('the reference policy has a logs section');
      p.logs.landing = `s3://${landing}/incoming/`;
    });
    await createBucket(admin, landing);
    await ensureVault(admin, policy);
    const s3 = admin.get(S3Client);
    const drop = async (host: string, cls: string, file: string, body: string) =>
      s3.send(
        new PutObjectCommand({
          Bucket: landing,
          Key: `incoming/${host}/${cls}/${file}`,
          Body: body,
          ...(host.endsWith('1') ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
        }),
      );
    const line = (host: string, d: string, n: number) =>
      Array.from(
        { length: n },
        (_, i) => `10.0.0.${i} - - [${d}] "GET /item/${i} HTTP/1.1" 200 ${i * 13} "${host}"`,
      ).join('\n');
    const files: [string, string, string][] = [];
    for (const host of ['web-1', 'web-2'])
      for (const d of ['20260701', '20260715', '20260802', '20260820', '20260903'])
        files.push([host, 'access', `access.log-${d}`]);
    files.push(['web-1', 'application', 'app.log-20260710'], ['db-1', 'system', 'messages-20260711']);
    const steps: Step[] = [
      {
        fn: 'log-archive',
        time: day('2026-09-03', 17),
        before: async () => {
          for (const [h, c, f] of files) await drop(h, c, f, line(h, f, 20 + f.length));
        },
      },
      { fn: 'log-bundle', time: day('2026-10-31', 18) },
      {
        fn: 'log-archive',
        time: day('2026-11-01', 17),
        before: async () => {
          // A late file of a bundled month: the next bundle run makes part 2.
          await drop('web-1', 'access', 'access.log-20260716-late', line('web-1', 'late', 7));
        },
      },
      { fn: 'log-bundle', time: day('2026-11-30', 18) },
    ];
    return {
      suffix,
      policy,
      steps,
      aliases: {},
      async state(c) {
        const s3c = c.get(S3Client);
        const vault = policy.vault.bucket;
        const loose: Record<string, string> = {};
        for (const k of await listKeys(s3c, vault, 'logs/')) loose[k] = sha(await bytes(s3c, vault, k));
        const bundles: Record<string, unknown> = {};
        for (const k of await listKeys(s3c, vault, 'log-bundles/')) {
          if (k.endsWith('.manifest.json')) {
            const m = JSON.parse((await bytes(s3c, vault, k)).toString('utf8')) as {
              part: number;
              members: { name: string; size: number; sha256: string; sourceKey: string }[];
            };
            bundles[k] = {
              part: m.part,
              members: m.members.map((x) => [x.name, x.size, x.sha256, x.sourceKey]),
            };
          } else bundles[k] = 'bundle';
        }
        return { loose, bundles, landing: await listKeys(s3c, landing, '') };
      },
    };
  },
};

// ---------------------------------------------------------------- image
export const image: Scenario = {
  class: 'image',
  async setup(admin, suffix) {
    const policy = basePolicy(suffix, (p) => {
      p.images = {
        generations: 2,
        reboot: false,
        copyToDrRegion: true,
        drRegion: 'ap-southeast-1',
        shareWithIsolatedAccount: false,
        waitSeconds: 0,
        stuckAfterHours: 24,
        keepInSource: 1,
      };
    });
    await ensureVault(admin, policy);
    const estate = await createEstate(admin);
    const instance = await launch(admin, estate, { policy, name: `web-${suffix}` });
    const week = (n: number) => new Date(Date.UTC(2026, 8, 5, 19, 0) + n * 7 * 86_400_000);
    const steps: Step[] = [0, 1, 2].map((n) => ({ fn: 'ami-backup' as const, time: week(n) }));
    return {
      suffix,
      policy,
      steps,
      aliases: { [instance]: '<instance>' },
      async state(c) {
        const out: Record<string, unknown> = {};
        const names = new Map<string, string>();
        for (const region of ['ap-northeast-1', 'ap-southeast-1']) {
          const ec2 = c.get(EC2Client, region);
          const imgs = await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
          for (const i of imgs.Images ?? []) names.set(i.ImageId ?? '', `<${i.Name}>`);
          const snaps = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
          const byId = new Map((snaps.Snapshots ?? []).map((s) => [s.SnapshotId ?? '', s]));
          const mine = (imgs.Images ?? []).filter((i) => i.Name?.startsWith(`kura-${instance}-`));
          const referenced = new Set(
            mine.flatMap((i) => (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId)),
          );
          out[region] = {
            images: mine
              .map((i) => ({
                name: i.Name,
                state: i.State,
                tags: kuraTags(fromTagList(i.Tags)),
                snapshots: (i.BlockDeviceMappings ?? []).map((b) => {
                  const s = byId.get(b.Ebs?.SnapshotId ?? '');
                  return s ? kuraTags(fromTagList(s.Tags)) : 'missing';
                }),
              }))
              .sort((a, b) => String(a.name).localeCompare(String(b.name))),
            // Snapshots of this instance's images that no image references: leaks.
            unreferenced: (snaps.Snapshots ?? [])
              .filter((s) => !referenced.has(s.SnapshotId))
              .filter(
                (s) => fromTagList(s.Tags)['kura:source'] === instance || s.Description?.includes(instance),
              )
              .map((s) => kuraTags(fromTagList(s.Tags))),
          };
        }
        const records = await listKeys(c.get(S3Client), policy.vault.bucket, '');
        out.records = records.filter((k) => k.includes(instance));
        // Image ids differ from world to world: name them by their image's name.
        return JSON.parse(JSON.stringify(out).replace(/ami-[0-9a-f]+/g, (id) => names.get(id) ?? '<gone>'));
      },
    };
  },
};

export const SCENARIOS: Record<ClassName, Scenario> = { database, content, logs, image };

export interface StepOutcome {
  fn: FunctionName;
  time: string;
  /** Invocations needed (1 = the first try succeeded; more = the schedule's retry re-invoked it). */
  invocations: number;
  ok: boolean;
  errors: string[];
}

/** One invocation of a handler as the scheduler makes it; a thrown error or ok=false is a failure. */
export async function invoke(
  step: Step,
  policy: Policy,
  clients: Clients,
): Promise<{ ok: boolean; error?: string }> {
  try {
    const r = (await RUNNERS[step.fn](syntheticScheduledEvent(step.time, step.detail ?? {}), {
      policy,
      clients,
    })) as RunResult & { complete?: boolean };
    if (!r.ok) {
      const failed = r.targets.filter((t) => t.status === 'failed');
      return { ok: false, error: failed.map((t) => `${t.target}: ${JSON.stringify(t.error)}`).join('; ') };
    }
    if (r.complete === false) return { ok: false, error: 'content generation not complete' };
    return { ok: true };
  } catch (err) {
    return { ok: false, error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/**
 * Runs the world's steps with `clients` (pointed at the proxy). A failed run
 * is re-invoked as the schedule's retry would (at most `retries` more times).
 */
export async function runSteps(
  world: World,
  admin: Clients,
  clients: Clients,
  retries = 2,
  clock?: SimulatedClock,
): Promise<StepOutcome[]> {
  const out: StepOutcome[] = [];
  for (const step of world.steps) {
    // The run happens at its scheduled time: the emulator finishes what earlier runs started.
    clock?.set(step.time);
    if (step.before) await step.before(admin);
    const o: StepOutcome = {
      fn: step.fn,
      time: step.time.toISOString(),
      invocations: 0,
      ok: false,
      errors: [],
    };
    while (o.invocations <= retries && !o.ok) {
      o.invocations++;
      const r = await invoke(step, world.policy, clients);
      o.ok = r.ok;
      if (r.error) o.errors.push(r.error);
    }
    out.push(o);
  }
  return out;
}

/** Clients on `endpoint` (the emulator, or the fault proxy in front of it) and on a world's clock. */
export function clientsAt(endpoint: string, clock: SimulatedClock): Clients {
  return new Clients({ region: 'ap-northeast-1', ...clock.clientOptions(endpoint) });
}
